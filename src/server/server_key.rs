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
    async fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_create(&path).await.unwrap_err();
        assert!(err.to_string().contains("not a usable"), "{err}");
    }
}
