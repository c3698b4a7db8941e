//! What a command reads besides its arguments: key files (decrypted with
//! a password when they are encrypted), message text from an argument or
//! standard input, files to send with their media type, fingerprints.

use super::*;

/// The current key pair of the key file at `path`, decrypted with the
/// password in `password_file` (or asked for) when the file is encrypted.
pub(super) fn key_pair_in(path: &Path, password_file: Option<&Path>) -> anyhow::Result<PrivateKey> {
    let file = read_key_file(path)?;
    let file_password = match password_file {
        Some(f) => Some(secret_from(f)?),
        None if file.is_encrypted() => Some(read_secret("Password of the key file")?),
        None => None,
    };
    file.private_key(file_password.as_ref().map(|p| p.as_bytes()))
        .map_err(|e| match e {
            crate::crypto::CryptoError::Decrypt => anyhow!("wrong password for the key file"),
            other => anyhow!("the key file cannot be used: {other}"),
        })
}

pub(super) fn read_key_file(path: &Path) -> anyhow::Result<KeyFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    KeyFile::from_json(&text)
        .map_err(|e| anyhow!("{} is not a NanoChat key file: {e}", path.display()))
}

pub(super) fn read_text(text: Option<String>) -> anyhow::Result<Option<String>> {
    match text.as_deref() {
        Some("-") => {
            let mut buffer = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut buffer)
                .context("cannot read the text from standard input")?;
            Ok(Some(buffer.trim_end_matches('\n').to_owned()))
        }
        _ => Ok(text),
    }
}

pub(super) fn read_file(path: &Path) -> anyhow::Result<FileToSend> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| anyhow!("{} names no file", path.display()))?;
    Ok(FileToSend {
        media_type: media_type(&name),
        name,
        bytes,
    })
}

/// A media type guessed from the extension, for the reader's benefit only.
pub(super) fn media_type(name: &str) -> Option<String> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    let known = match extension.as_str() {
        "txt" | "md" => "text/plain",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "json" => "application/json",
        "zip" => "application/zip",
        _ => return None,
    };
    Some(known.to_owned())
}

pub(super) fn parse_fingerprint(text: &str) -> anyhow::Result<Fingerprint> {
    text.parse()
        .map_err(|_| anyhow!("{text:?} is not a fingerprint (64 hex digits, spaces allowed)"))
}
