//! Fixture keys: 3072-bit RSA keys generated once and cached as PKCS#8 PEM
//! in `target/bench-keys/`, so later runs only parse them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use nanochat::crypto::PrivateKey;

use crate::stats::par_map;

/// The key cache directory.
pub struct KeyCache {
    dir: PathBuf,
    keys: Vec<PrivateKey>,
}

impl KeyCache {
    /// A cache in `dir` (created when keys are first written).
    pub fn new(dir: &Path) -> KeyCache {
        KeyCache {
            dir: dir.to_owned(),
            keys: Vec::new(),
        }
    }

    /// The first `n` user keys (key 0 is the server's, users start at 1),
    /// generating (in parallel) and caching those missing. Keys take the
    /// RSA backend active when they are parsed.
    pub fn users(&mut self, n: usize) -> anyhow::Result<&[PrivateKey]> {
        let n = n + 1;
        if self.keys.len() < n {
            std::fs::create_dir_all(&self.dir)
                .with_context(|| format!("creating {}", self.dir.display()))?;
            let missing: Vec<usize> = (self.keys.len()..n)
                .filter(|i| !self.path(*i).exists())
                .collect();
            if !missing.is_empty() {
                eprintln!(
                    "generating {} 3072-bit keys into {} (only once; later runs reuse them)",
                    missing.len(),
                    self.dir.display()
                );
            }
            let done = AtomicUsize::new(0);
            let total = missing.len();
            let generated = par_map(missing, |i| -> anyhow::Result<()> {
                let key = PrivateKey::generate()?;
                let tmp = self
                    .dir
                    .join(format!("user-{i:05}.pem.tmp{}", std::process::id()));
                std::fs::write(&tmp, key.to_pkcs8_pem()?.as_bytes())?;
                std::fs::rename(&tmp, self.path(i))?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(50) {
                    eprintln!("  {d}/{total} keys");
                }
                Ok(())
            });
            generated.into_iter().collect::<anyhow::Result<()>>()?;
            let wanted: Vec<usize> = (self.keys.len()..n).collect();
            let parsed = par_map(wanted, |i| -> anyhow::Result<PrivateKey> {
                let path = self.path(i);
                let pem = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                PrivateKey::from_pkcs8_pem(&pem)
                    .with_context(|| format!("parsing {}", path.display()))
            });
            for key in parsed {
                self.keys.push(key?);
            }
        }
        Ok(&self.keys[1..n])
    }

    /// User key `i` (0-based, as in [`KeyCache::users`]), parsed again
    /// under the backend active now.
    pub fn reparse(&mut self, i: usize) -> anyhow::Result<PrivateKey> {
        self.users(i + 1)?;
        let pem = std::fs::read_to_string(self.path(i + 1))?;
        Ok(PrivateKey::from_pkcs8_pem(&pem)?)
    }

    /// The PEM of the server key (key 0).
    pub fn server_pem(&mut self) -> anyhow::Result<String> {
        self.users(0)?;
        Ok(std::fs::read_to_string(self.path(0))?)
    }

    fn path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("user-{i:05}.pem"))
    }
}
