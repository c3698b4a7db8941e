//! `user.*` and the operator commands around them.

use nanochat::client::{Bodies, ClientError, Session};
use nanochat::crypto::{EncryptedPrivateKey, Succession};
use nanochat::models::{BaseUser, CompleteUser, SyncUser, UpdateUser};
use nanochat::wire::Secret;

use crate::support::{TestServer, code, complete, key, token_in};

/// A fast-to-derive password blob would be refused, so these use the real
/// default parameters; one encryption per test is affordable.
fn encrypted(name: &str, password: &str) -> nanochat::models::EncryptedPrivateKey {
    let blob = EncryptedPrivateKey::encrypt(&key(name), password.as_bytes()).unwrap();
    serde_json::from_str(&blob.to_json().unwrap()).unwrap()
}

#[tokio::test]
async fn complete_then_get() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let me = alice
        .user_get(BaseUser {
            username: "alice".into(),
        })
        .await
        .unwrap();
    assert_eq!(me.display_name, "ALICE");
    assert_eq!(me.fingerprint, key("alice").fingerprint().to_string());
    assert_eq!(
        code(
            alice
                .user_get(BaseUser {
                    username: "nobody".into()
                })
                .await
        ),
        "not_found"
    );
}

#[tokio::test]
async fn a_token_works_once() {
    let server = TestServer::start().await;
    let token = server.create_user("alice").await;
    let alice = server.session("alice").await;
    complete(&alice, &token, "alice").await.unwrap();
    assert_eq!(
        code(complete(&alice, &token, "alice").await),
        "invalid_token"
    );
}

#[tokio::test]
async fn a_wrong_or_foreign_token_is_refused() {
    let server = TestServer::start().await;
    server.create_user("alice").await;
    let bob_token = server.create_user("bob").await;
    let alice = server.session("alice").await;
    assert_eq!(
        code(complete(&alice, "not-the-token", "alice").await),
        "invalid_token"
    );
    assert_eq!(
        code(complete(&alice, &bob_token, "alice").await),
        "invalid_token",
        "bob's token does not complete alice"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let server = TestServer::start().await;
    let token = token_in(
        &server
            .cli(&["user", "create", "alice", "--ttl", "1s"])
            .await
            .unwrap(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let alice = server.session("alice").await;
    assert_eq!(
        code(complete(&alice, &token, "alice").await),
        "invalid_token"
    );
}

#[tokio::test]
async fn complete_must_be_signed_by_the_key_it_carries() {
    let server = TestServer::start().await;
    let token = server.create_user("alice").await;
    // Signed with bob's key but carrying alice's public key.
    let impostor = Session::connect(&server.url, "alice", Some(key("bob")))
        .await
        .unwrap();
    assert_eq!(
        code(complete(&impostor, &token, "alice").await),
        "bad_signature"
    );
    // The token is still usable by the real owner.
    let alice = server.session("alice").await;
    complete(&alice, &token, "alice").await.unwrap();
}

/// The SPKI DER of the 1024-bit fixture, which our own key types refuse to load.
fn weak_public_key() -> Vec<u8> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let pem = nanochat_conformance::FixtureKey::Weak.pem();
    let key = rsa::PrivateKey::from_pkcs8_pem(pem).unwrap();
    key.to_public_key()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[tokio::test]
async fn weak_keys_are_refused() {
    let server = TestServer::start().await;
    let token = server.create_user("weak").await;
    let weak = Session::connect(&server.url, "weak", Some(key("alice")))
        .await
        .unwrap();
    let result = weak
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: "Weak".into(),
            public_key: weak_public_key().into(),
            private_key: None,
            sync_password: None,
        })
        .await;
    assert_eq!(code(result), "invalid_key");
}

#[tokio::test]
async fn sync_returns_the_stored_key_for_the_right_password_only() {
    let server = TestServer::start().await;
    let token = server.create_user("alice").await;
    let alice = server.session("alice").await;
    alice
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: "Alice".into(),
            public_key: key("alice").public_key().to_spki_der().to_vec().into(),
            private_key: Some(encrypted("alice", "key password")),
            sync_password: Some(Secret::new("sync password")),
        })
        .await
        .unwrap();
    // A new device knows no key yet: user.sync is unsigned.
    let device = Session::connect(&server.url, "alice", None).await.unwrap();
    assert_eq!(
        code(
            device
                .user_sync(SyncUser {
                    sync_password: Secret::new("wrong password")
                })
                .await
        ),
        "wrong_password"
    );
    let synced = device
        .user_sync(SyncUser {
            sync_password: Secret::new("sync password"),
        })
        .await
        .unwrap();
    let blob = EncryptedPrivateKey::from_json(&serde_json::to_string(&synced.private_key).unwrap())
        .unwrap();
    assert!(blob.decrypt(b"wrong").is_err());
    assert_eq!(
        blob.decrypt(b"key password").unwrap().fingerprint(),
        key("alice").fingerprint()
    );
}

#[tokio::test]
async fn sync_failures_are_rate_limited_per_user() {
    let server = TestServer::start_with(|c| c.sync_failures_allowed = 3).await;
    server.user("alice").await;
    let device = Session::connect(&server.url, "alice", None).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            code(
                device
                    .user_sync(SyncUser {
                        sync_password: Secret::new("guess guess")
                    })
                    .await
            ),
            "wrong_password"
        );
    }
    assert_eq!(
        code(
            device
                .user_sync(SyncUser {
                    sync_password: Secret::new("guess guess")
                })
                .await
        ),
        "rate_limited"
    );
    // Unknown users look exactly like users without a stored key.
    let ghost = Session::connect(&server.url, "ghost", None).await.unwrap();
    assert!(matches!(
        ghost
            .user_sync(SyncUser {
                sync_password: Secret::new("whatever1")
            })
            .await,
        Err(ClientError::Api(_))
    ));
}

#[tokio::test]
async fn display_name_and_key_rotation() {
    let server = TestServer::start().await;
    let mut alice = server.user("alice").await;
    let renamed = alice
        .user_update(UpdateUser {
            display_name: Some("Alice L.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Alice L.");

    let new_key = key("carol");
    let new_public = new_key.public_key().to_spki_der().to_vec();
    // Without proofs, or with a proof of possession by another key: refused
    // (tests/e2e/keys.rs walks every other way a proof can be wrong).
    let missing = alice
        .user_update(UpdateUser {
            public_key: Some(new_public.clone().into()),
            ..Default::default()
        })
        .await;
    assert_eq!(code(missing), "bad_request");
    let forged = Succession::sign("alice", 1, &key("alice"), &key("bob")).unwrap();
    let genuine = Succession::sign("alice", 1, &key("alice"), &new_key).unwrap();
    let result = alice
        .user_update(UpdateUser {
            public_key: Some(new_public.clone().into()),
            succession_signature: Some(genuine.succession_signature.clone().into()),
            public_key_signature: Some(forged.public_key_signature.into()),
            ..Default::default()
        })
        .await;
    assert_eq!(code(result), "bad_signature");

    let rotated = alice
        .user_update(UpdateUser {
            public_key: Some(new_public.clone().into()),
            succession_signature: Some(genuine.succession_signature.into()),
            public_key_signature: Some(genuine.public_key_signature.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rotated.fingerprint, new_key.fingerprint().to_string());
    // The old key no longer signs for alice; the new one does.
    assert_eq!(
        code(
            alice
                .user_get(BaseUser {
                    username: "alice".into()
                })
                .await
        ),
        "bad_signature"
    );
    alice.set_signer(Some(new_key));
    alice
        .user_get(BaseUser {
            username: "alice".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_is_immediate() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    alice.user_delete().await.unwrap();
    assert_eq!(
        code(
            alice
                .user_get(BaseUser {
                    username: "bob".into()
                })
                .await
        ),
        "unknown_user"
    );
    assert_eq!(
        code(
            bob.user_get(BaseUser {
                username: "alice".into()
            })
            .await
        ),
        "not_found"
    );
}

#[tokio::test]
async fn operator_commands() {
    let server = TestServer::start().await;
    server.user("alice").await;
    let listing = server.cli(&["user", "list"]).await.unwrap();
    assert!(
        listing.contains("alice") && listing.contains("active"),
        "{listing}"
    );
    assert!(
        listing.contains(&key("alice").fingerprint().to_string()),
        "{listing}"
    );

    // reset: a new token, the old key no longer accepted.
    let token = token_in(
        &server
            .cli(&["user", "reset", "alice", "--ttl", "60s"])
            .await
            .unwrap(),
    );
    let old = server.session("alice").await;
    assert_eq!(
        code(
            old.user_get(BaseUser {
                username: "alice".into()
            })
            .await
        ),
        "unknown_user"
    );
    let fresh = Session::connect(&server.url, "alice", Some(key("bob")))
        .await
        .unwrap();
    fresh
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: "Alice again".into(),
            public_key: key("bob").public_key().to_spki_der().to_vec().into(),
            private_key: None,
            sync_password: None,
        })
        .await
        .unwrap();

    // Duplicate names, bad names and unknown users are clear errors.
    let err = server.cli(&["user", "create", "alice"]).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let err = server
        .cli(&["user", "create", "Bad Name"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid username"), "{err}");
    let err = server.cli(&["user", "reset", "ghost"]).await.unwrap_err();
    assert!(err.to_string().contains("no user is called"), "{err}");
    server.cli(&["user", "delete", "alice"]).await.unwrap();
    assert!(
        !server
            .cli(&["user", "list"])
            .await
            .unwrap()
            .contains("alice")
    );
}

#[tokio::test]
async fn concurrent_sync_guesses_cannot_outrun_the_limit() {
    let server = TestServer::start_with(|c| c.sync_failures_allowed = 5).await;
    let token = server.create_user("alice").await;
    let alice = server.session("alice").await;
    alice
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: "Alice".into(),
            public_key: key("alice").public_key().to_spki_der().to_vec().into(),
            private_key: Some(encrypted("alice", "key password")),
            sync_password: Some(Secret::new("sync password")),
        })
        .await
        .unwrap();
    let device = std::sync::Arc::new(Session::connect(&server.url, "alice", None).await.unwrap());
    let guesses = (0..30).map(|i| {
        let device = device.clone();
        tokio::spawn(async move {
            code(
                device
                    .user_sync(SyncUser {
                        sync_password: Secret::new(format!("guess {i:04}")),
                    })
                    .await,
            )
        })
    });
    let mut wrong = 0;
    for guess in guesses {
        match guess.await.unwrap().as_str() {
            "wrong_password" => wrong += 1,
            "rate_limited" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(wrong, 5, "exactly the allowance was tried against the hash");
}

#[tokio::test]
async fn malformed_usernames_are_refused_before_anything_is_stored() {
    let server = TestServer::start().await;
    for name in ["Alice", "x".repeat(33).as_str(), "a b", ""] {
        let device = Session::connect(&server.url, name, None).await.unwrap();
        assert_eq!(
            code(
                device
                    .user_sync(SyncUser {
                        sync_password: Secret::new("whatever1")
                    })
                    .await
            ),
            "bad_request",
            "{name:?}"
        );
    }
}
