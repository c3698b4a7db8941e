//! The server key pair on disk: created on first start as PKCS#8 PEM with
//! mode 0600, loaded afterwards.
//!
//! The server must decrypt without an operator at hand, so this one private
//! key is stored unencrypted; file permissions and disk encryption are what
//! protect it (README, "Operating").

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

use crate::crypto::PrivateKey;
use crate::store::{Location, Store};

/// A refusal to run that protects the operator's data: a database that
/// does not exist or was never set up, a missing or changed server key.
/// `nanochat` exits with [`EXIT_REFUSED`] on it; the message says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The exit code of `nanochat` for a [`Refused`] command (2 is a usage
/// error, 1 any other failure).
pub const EXIT_REFUSED: u8 = 3;

/// Loads the server key for serving `store` (at `database`): refuses
/// ([`Refused`]) when the database already has users or a recorded key but
/// the key file is missing, or when the file holds another key than the one
/// recorded; with `replace`, generates or accepts the key anyway, logs at
/// WARN and records it. A database without users gets a new key (created
/// like [`load_or_create`]) and its fingerprint recorded.
pub async fn load_for(
    path: &Path,
    store: &Store,
    database: &Location,
    replace: bool,
) -> anyhow::Result<PrivateKey> {
    let recorded = store.recorded_server_key().await?;
    let in_use = recorded.is_some() || store.has_users().await?;
    let missing = !path.exists();
    if missing && in_use && !replace {
        return Err(Refused(format!(
            "the server key file {} is missing, but the database {database} already has users{}: \
             a new key would make every client stop with a \"server key changed\" warning. \
             Restore the key file from your backup (`nanochat backup` copies it to \
             DEST.server-key.pem; copy it back with mode 0600) or point --server-key at it; \
             only if the key is lost for good, start with --replace-server-key to generate a new \
             one and tell your users to check and trust its fingerprint",
            path.display(),
            recorded
                .as_deref()
                .map(|f| format!(" and last served with key {f}"))
                .unwrap_or_default(),
        ))
        .into());
    }
    let key = load_or_create(path).await?;
    let fingerprint = key.fingerprint().to_string();
    if let Some(recorded) = recorded
        .as_deref()
        .filter(|r| *r != fingerprint && !replace)
    {
        return Err(Refused(format!(
            "the server key file {} holds key {fingerprint}, but the database {database} \
             last served with key {recorded}: every client would stop with a \"server key \
             changed\" warning. Restore the original key file (fingerprint {recorded}) or \
             point --server-key at it; only to switch keys on purpose, start with \
             --replace-server-key and tell your users to check and trust the new fingerprint",
            path.display()
        ))
        .into());
    }
    let changed = match recorded.as_deref() {
        Some(r) => r != fingerprint,
        None => in_use && missing,
    };
    if changed {
        tracing::warn!(
            path = %path.display(),
            old = recorded.as_deref().unwrap_or("unknown"),
            new = %fingerprint,
            "replacing the server key (--replace-server-key): every client will warn that the \
             server key changed; users must check and trust the new fingerprint"
        );
    }
    let now = crate::server::protocol::unix_ms(time::OffsetDateTime::now_utc());
    let stored = store.record_server_key(&fingerprint, replace, now).await?;
    if stored != fingerprint {
        return Err(Refused(format!(
            "another instance recorded server key {stored} in the database {database} while this \
             one started with {fingerprint} from {}: give every instance the same key file",
            path.display()
        ))
        .into());
    }
    Ok(key)
}

/// Loads the key at `path`, or generates and writes a new 3072-bit key there.
pub async fn load_or_create(path: &Path) -> anyhow::Result<PrivateKey> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || load_or_create_blocking(&path)).await?
}

fn load_or_create_blocking(path: &Path) -> anyhow::Result<PrivateKey> {
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            let pem = zeroize::Zeroizing::new(pem);
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the server key is readable by others; chmod 600 it");
            }
            PrivateKey::from_pkcs8_pem(&pem)
                .with_context(|| format!("{} is not a usable PKCS#8 RSA key", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(path = %path.display(), "generating the server key (3072-bit RSA)");
            let key = PrivateKey::generate().context("generating the server key")?;
            let pem = key.to_pkcs8_pem().context("encoding the server key")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(pem.as_bytes())?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_existing_key_is_loaded_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let pem = include_str!("../../conformance/fixtures/keys/server-3072.pem");
        std::fs::write(&path, pem).unwrap();
        let key = load_or_create(&path).await.unwrap();
        assert_eq!(
            key.fingerprint(),
            PrivateKey::from_pkcs8_pem(pem).unwrap().fingerprint()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);
    }

    #[tokio::test]
    async fn a_database_with_users_keeps_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let server = include_str!("../../conformance/fixtures/keys/server-3072.pem");
        let carol = include_str!("../../conformance/fixtures/keys/carol-3072.pem");
        std::fs::write(&path, server).unwrap();
        let store = Store::open_in_memory().await.unwrap();
        let location = Location::Sqlite(dir.path().join("nanochat.db"));
        let first = load_for(&path, &store, &location, false).await.unwrap();
        let recorded = store.recorded_server_key().await.unwrap();
        assert_eq!(recorded, Some(first.fingerprint().to_string()));
        std::fs::write(&path, carol).unwrap();
        let refused = load_for(&path, &store, &location, false).await.unwrap_err();
        assert!(refused.is::<Refused>(), "{refused}");
        std::fs::remove_file(&path).unwrap();
        let refused = load_for(&path, &store, &location, false).await.unwrap_err();
        assert!(refused.to_string().contains("is missing"), "{refused}");
        assert!(!path.exists());
        std::fs::write(&path, carol).unwrap();
        let replaced = load_for(&path, &store, &location, true).await.unwrap();
        let recorded = store.recorded_server_key().await.unwrap();
        assert_eq!(recorded, Some(replaced.fingerprint().to_string()));
        assert_ne!(replaced.fingerprint(), first.fingerprint());
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_create(&path).await.unwrap_err();
        assert!(err.to_string().contains("not a usable"), "{err}");
    }
}
