//! Crypto core benchmarks (criterion). Run with
//! `cargo bench --bench crypto -- --warm-up-time 1 --measurement-time 3`.
//!
//! Uses the committed fixture keys; RSA work dominates everything except
//! Argon2id. The `backends` group compares the RSA backends operation by
//! operation (`src/crypto/rsa_backend.rs`); the other groups use the
//! default one (or `NANOCHAT_RSA_BACKEND`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nanochat::crypto::{
    EncryptedPrivateKey, PrivateKey, PublicKey, RsaBackend, backend, open_message, open_name,
    seal_message, seal_name, seal_request,
};
use nanochat_conformance::FixtureKey;
use uuid::Uuid;

/// One fixture key per size the policy accepts.
fn keys() -> [(usize, PrivateKey); 3] {
    [FixtureKey::Dave, FixtureKey::Server, FixtureKey::Erin].map(|k| (k.bits(), k.private_key()))
}

const BODY: &[u8] = br#"{"type":"message.create","created_at":"2026-01-01T00:00:00Z","request_id":"00000000-0000-4000-8000-000000000001","username":"alice","payload":{"conversation_id":"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f","content":"....................................................................................................................................."}}"#;

fn envelope(c: &mut Criterion) {
    let mut g = c.benchmark_group("envelope");
    for (bits, k) in keys() {
        // Server and signer of the same size (one fixture key per size).
        g.bench_with_input(BenchmarkId::new("seal_signed", bits), &k, |b, k| {
            b.iter(|| seal_request(k.public_key(), black_box(BODY), Some(k)).unwrap())
        });
        let (env, _) = seal_request(k.public_key(), BODY, Some(&k)).unwrap();
        g.bench_with_input(BenchmarkId::new("open", bits), &k, |b, k| {
            b.iter(|| black_box(&env).open(k).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("verify", bits), &k, |b, k| {
            b.iter(|| black_box(&env).verify_signature(k.public_key()).unwrap())
        });
    }
    g.finish();
}

fn content(c: &mut Criterion) {
    let alice = FixtureKey::Alice.private_key();
    let others = [
        FixtureKey::Bob.private_key(),
        FixtureKey::Carol.private_key(),
    ];
    let conv = Uuid::from_u128(1);
    let msg = Uuid::from_u128(2);
    let text = br#"{"text":"A typical chat message of a hundred bytes or so, nothing special about it at all."}"#;
    let mut g = c.benchmark_group("content");
    for n in [2usize, 10, 100] {
        let names: Vec<String> = (0..n).map(|i| format!("user{i:03}")).collect();
        let members: Vec<(&str, &PublicKey)> = names
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let pk = if i == 0 {
                    alice.public_key()
                } else {
                    others[i % 2].public_key()
                };
                (u.as_str(), pk)
            })
            .collect();
        g.bench_with_input(BenchmarkId::new("seal_3072", n), &members, |b, m| {
            b.iter(|| seal_message(&alice, conv, msg, black_box(text), None, m).unwrap())
        });
    }
    let members: Vec<(&str, &PublicKey)> = vec![
        ("alice", alice.public_key()),
        ("bob", others[0].public_key()),
        ("carol", others[1].public_key()),
    ];
    let sealed = seal_message(&alice, conv, msg, text, None, &members).unwrap();
    let received = sealed.for_reader("bob").unwrap();
    g.bench_function("read_3072", |b| {
        b.iter(|| {
            open_message(black_box(&received), "bob", &others[0], alice.public_key()).unwrap()
        })
    });
    g.finish();
}

fn name(c: &mut Criterion) {
    let alice = FixtureKey::Alice.private_key();
    let bob = FixtureKey::Bob.private_key();
    let conv = Uuid::from_u128(1);
    let names: Vec<String> = (0..10).map(|i| format!("user{i:03}")).collect();
    // user000 is alice, user001 is bob, the rest share bob's key: the cost is
    // one OAEP wrap per member whoever owns the key.
    let members: Vec<(&str, &PublicKey)> = names
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let pk = if i == 0 {
                alice.public_key()
            } else {
                bob.public_key()
            };
            (u.as_str(), pk)
        })
        .collect();
    let mut g = c.benchmark_group("name");
    g.bench_with_input(BenchmarkId::new("seal_3072", 10), &members, |b, m| {
        b.iter(|| seal_name(&alice, conv, 1, black_box("Weekend plans"), m).unwrap())
    });
    let sealed = seal_name(&alice, conv, 1, "Weekend plans", &members).unwrap();
    let received = sealed.for_reader("user001").unwrap();
    g.bench_function("open_3072", |b| {
        b.iter(|| open_name(black_box(&received), "user001", &bob, alice.public_key()).unwrap())
    });
    g.finish();
}

fn password(c: &mut Criterion) {
    let alice = FixtureKey::Alice.private_key();
    let blob = EncryptedPrivateKey::encrypt(&alice, b"correct horse battery staple").unwrap();
    let mut g = c.benchmark_group("password");
    g.sample_size(10);
    g.bench_function("argon2id_default_decrypt", |b| {
        b.iter(|| {
            blob.decrypt(black_box(b"correct horse battery staple"))
                .unwrap()
        })
    });
    g.finish();
}

/// Each RSA operation the server or a client spends time on, per backend.
fn backends(c: &mut Criterion) {
    let before = backend::active();
    let mut g = c.benchmark_group("backends");
    for &which in RsaBackend::AVAILABLE {
        // Keys take the backend active when they are parsed.
        backend::select(which);
        for (bits, k) in keys() {
            let spki = k.public_key().to_spki_der().to_vec();
            let wrapped = k.public_key().encrypt_oaep(&[7u8; 32]).unwrap();
            let signature = k.sign_pss(BODY).unwrap();
            let id = |op: &str| BenchmarkId::new(format!("{which}/{op}"), bits);
            g.bench_function(id("oaep_decrypt"), |b| {
                b.iter(|| k.decrypt_oaep(black_box(&wrapped)).unwrap())
            });
            g.bench_function(id("pss_verify"), |b| {
                b.iter(|| {
                    k.public_key()
                        .verify_pss(BODY, black_box(&signature))
                        .unwrap()
                })
            });
            g.bench_function(id("pss_sign"), |b| {
                b.iter(|| k.sign_pss(black_box(BODY)).unwrap())
            });
            g.bench_function(id("oaep_encrypt"), |b| {
                b.iter(|| k.public_key().encrypt_oaep(black_box(&[7u8; 32])).unwrap())
            });
            g.bench_function(id("public_key_parse"), |b| {
                b.iter(|| PublicKey::from_spki_der(black_box(&spki)).unwrap())
            });
        }
    }
    g.finish();
    backend::select(before);
}

criterion_group!(benches, backends, envelope, content, name, password);
criterion_main!(benches);
