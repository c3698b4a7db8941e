//! Passwords for the command line: from a file (first line) or a prompt
//! without echo; held in zeroizing strings and never printed.

use std::path::Path;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;

/// The first line of `path`, without its line ending.
pub fn secret_from(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?,
    );
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!("the password file {} is empty", path.display());
    }
    Ok(Zeroizing::new(line.to_owned()))
}

/// Asks for `what` on the terminal, without echo.
pub fn read_secret(what: &str) -> anyhow::Result<Zeroizing<String>> {
    let answer = Zeroizing::new(
        rpassword::prompt_password(format!("{what}: ")).with_context(|| {
            format!("cannot ask for the {what} (no terminal? use a --*-file option)")
        })?,
    );
    if answer.is_empty() {
        bail!("the {what} cannot be empty");
    }
    Ok(answer)
}
