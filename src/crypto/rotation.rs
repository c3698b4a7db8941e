//! The key rotation proof: what a user signs with a NEW private key to show
//! possession of it when `user.update` replaces their public key.

/// Domain separation for the rotation proof.
pub const KEY_ROTATION_LABEL: &[u8] = b"nanochat/v1 key rotation";

/// The bytes the new key signs (RSA-PSS): three fields, each a 4-byte
/// big-endian length followed by the bytes: the ASCII label
/// `nanochat/v1 key rotation`, the username (UTF-8) and the new public key
/// (SubjectPublicKeyInfo DER).
pub fn key_rotation_bytes(username: &str, new_public_key_der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        12 + KEY_ROTATION_LABEL.len() + username.len() + new_public_key_der.len(),
    );
    for field in [KEY_ROTATION_LABEL, username.as_bytes(), new_public_key_der] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed() {
        let bytes = key_rotation_bytes("al", &[9]);
        let mut expected = vec![0, 0, 0, 24];
        expected.extend_from_slice(KEY_ROTATION_LABEL);
        expected.extend_from_slice(&[0, 0, 0, 2, b'a', b'l', 0, 0, 0, 1, 9]);
        assert_eq!(bytes, expected);
    }
}
