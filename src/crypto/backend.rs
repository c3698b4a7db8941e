//! Which RSA implementation the crypto core uses: the pure-Rust `rsa` crate,
//! or AWS-LC (cargo feature `aws-lc`, the server's default), about 5x
//! faster for the private-key operations every request costs the server.
//!
//! The choice is process-wide and read when a key is parsed or generated,
//! so select it before making keys: [`select`] (what `nanochat serve
//! --rsa-backend` does), else the `NANOCHAT_RSA_BACKEND` environment
//! variable (`rustcrypto` or `aws-lc`), else AWS-LC when compiled in.
//! Both produce and accept the same bytes; only speed differs.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// An RSA implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaBackend {
    /// The RustCrypto `rsa` crate: pure Rust, always available.
    RustCrypto,
    /// AWS-LC through `aws-lc-rs` (cargo feature `aws-lc`).
    AwsLc,
}

/// The environment variable that picks the backend when nothing selected one.
pub const ENV_VAR: &str = "NANOCHAT_RSA_BACKEND";

const UNSET: u8 = 0;
const RUST_CRYPTO: u8 = 1;
const AWS_LC: u8 = 2;

static ACTIVE: AtomicU8 = AtomicU8::new(UNSET);

impl RsaBackend {
    /// Every backend compiled into this build, the default first.
    pub const AVAILABLE: &'static [RsaBackend] = if cfg!(feature = "aws-lc") {
        &[RsaBackend::AwsLc, RsaBackend::RustCrypto]
    } else {
        &[RsaBackend::RustCrypto]
    };

    /// The name used by `--rsa-backend` and [`ENV_VAR`].
    pub fn name(self) -> &'static str {
        match self {
            RsaBackend::RustCrypto => "rustcrypto",
            RsaBackend::AwsLc => "aws-lc",
        }
    }

    /// The default of this build: AWS-LC when compiled in.
    pub fn default_of_build() -> RsaBackend {
        Self::AVAILABLE[0]
    }

    fn code(self) -> u8 {
        match self {
            RsaBackend::RustCrypto => RUST_CRYPTO,
            RsaBackend::AwsLc => AWS_LC,
        }
    }
}

impl fmt::Display for RsaBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RsaBackend {
    type Err = String;

    /// Parses a backend name; a backend not compiled into this build is an
    /// error too.
    fn from_str(name: &str) -> Result<Self, String> {
        let backend = match name {
            "rustcrypto" => RsaBackend::RustCrypto,
            "aws-lc" => RsaBackend::AwsLc,
            _ => {
                return Err(format!(
                    "unknown RSA backend {name:?} (this build has: {})",
                    names()
                ));
            }
        };
        if RsaBackend::AVAILABLE.contains(&backend) {
            Ok(backend)
        } else {
            Err(format!(
                "this build has no {name} backend (it has: {}; build with the cargo feature aws-lc)",
                names()
            ))
        }
    }
}

fn names() -> String {
    RsaBackend::AVAILABLE
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Makes `backend` the one keys parsed or generated from now on use.
pub fn select(backend: RsaBackend) {
    ACTIVE.store(backend.code(), Ordering::Relaxed);
}

/// The backend new keys use: the one [`select`]ed, else the one
/// [`ENV_VAR`] names (an unknown name is ignored), else the build's
/// default.
pub fn active() -> RsaBackend {
    match ACTIVE.load(Ordering::Relaxed) {
        RUST_CRYPTO => RsaBackend::RustCrypto,
        AWS_LC => RsaBackend::AwsLc,
        _ => {
            let backend = std::env::var(ENV_VAR)
                .ok()
                .and_then(|name| name.parse().ok())
                .unwrap_or_else(RsaBackend::default_of_build);
            // A concurrent select() wins over the environment.
            let _ = ACTIVE.compare_exchange(
                UNSET,
                backend.code(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            match ACTIVE.load(Ordering::Relaxed) {
                RUST_CRYPTO => RsaBackend::RustCrypto,
                _ => RsaBackend::AwsLc,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for backend in RsaBackend::AVAILABLE {
            assert_eq!(backend.name().parse::<RsaBackend>().unwrap(), *backend);
        }
        assert!("openssl".parse::<RsaBackend>().is_err());
        assert_eq!(
            "aws-lc".parse::<RsaBackend>().is_ok(),
            cfg!(feature = "aws-lc")
        );
    }
}
