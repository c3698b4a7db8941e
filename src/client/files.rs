//! Files the client keeps for its user: written whole or not at all, and
//! readable by that user only.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;

use crate::client::error::ClientError;

/// Writes `bytes` to `path` with mode 0600 (parent directories 0700): into
/// a temporary file beside it, synced, then renamed over `path`, so a crash
/// leaves the old file or the new one, never half of either.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let local = |e: std::io::Error| ClientError::Local(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(local)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = std::path::PathBuf::from(temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(local)?;
    file.write_all(bytes).map_err(local)?;
    file.sync_all().map_err(local)?;
    std::fs::rename(&temporary, path).map_err(local)?;
    Ok(())
}
