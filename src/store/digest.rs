//! [`Digest`]: a SHA-256 digest as the store keeps it, 32 bytes by type.
//! A BLOB of any other length read back is a decode error, not a short
//! digest that a later comparison quietly gets wrong.

use std::fmt;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A SHA-256 digest: of a wrapped key, an attachment ciphertext or a
/// public key (SPKI DER).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(crate::crypto::sha256(data))
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl From<Digest> for crate::wire::Bytes {
    fn from(digest: Digest) -> Self {
        Self(digest.0.to_vec())
    }
}

impl TryFrom<&[u8]> for Digest {
    type Error = std::array::TryFromSliceError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        bytes.try_into().map(Self)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

impl<DB: Database> Type<DB> for Digest
where
    Vec<u8>: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <Vec<u8> as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <Vec<u8> as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Digest
where
    Vec<u8>: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.to_vec().encode(buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Digest
where
    Vec<u8>: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let bytes = <Vec<u8> as Decode<DB>>::decode(value)?;
        Digest::try_from(bytes.as_slice())
            .map_err(|_| format!("a stored digest is {} bytes, not 32", bytes.len()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    #[tokio::test]
    async fn a_digest_round_trips_and_a_short_blob_is_refused() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let digest = Digest::of(b"wrapped key");
        let row = sqlx::query("SELECT $1 AS d, x'0102' AS short")
            .bind(digest)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(row.try_get::<Digest, _>("d").unwrap(), digest);
        let err = row.try_get::<Digest, _>("short").unwrap_err();
        assert!(err.to_string().contains("2 bytes, not 32"), "{err}");
    }
}
