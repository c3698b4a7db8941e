//! Creating the users a case needs on a server the suite does not control:
//! through the server's own user-creation command, or from tokens made
//! beforehand.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use regex::Regex;

/// The default pattern that finds the token in a command's output
/// (`nanochat user create` prints `complete token: ...`).
pub const DEFAULT_TOKEN_PATTERN: &str = r"complete token: (\S+)";

/// A pending user: the username the server knows and its complete token.
pub type Pending = (String, String);

/// Creates pending users and returns their complete tokens.
pub trait Provisioner: Send + Sync {
    /// Creates a pending user, named `username` where the provisioner can
    /// choose, and returns the name it got and its one-time complete token.
    fn create<'a>(
        &'a self,
        username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Pending, String>> + Send + 'a>>;
}

/// Runs a shell command per user (`{username}` is replaced) and reads the
/// token from its output with a pattern whose first group is the token.
pub struct CommandProvisioner {
    command: String,
    pattern: Regex,
}

impl CommandProvisioner {
    /// A provisioner running `command` (for example `nanochat user create
    /// {username}`), reading tokens with `pattern`.
    pub fn new(command: &str, pattern: &str) -> Result<Self, String> {
        if !command.contains("{username}") {
            return Err("the provisioning command must contain {username}".into());
        }
        let pattern = Regex::new(pattern).map_err(|e| format!("bad token pattern: {e}"))?;
        if pattern.captures_len() < 2 {
            return Err("the token pattern needs a capture group for the token".into());
        }
        Ok(CommandProvisioner {
            command: command.to_owned(),
            pattern,
        })
    }
}

impl Provisioner for CommandProvisioner {
    fn create<'a>(
        &'a self,
        username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Pending, String>> + Send + 'a>> {
        Box::pin(async move {
            // Usernames are checked by the suite to be [a-z0-9._-]: safe to
            // put in a shell command.
            let command = self.command.replace("{username}", username);
            let output = tokio::process::Command::new("sh")
                .args(["-c", &command])
                .output()
                .await
                .map_err(|e| format!("cannot run `{command}`: {e}"))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                return Err(format!(
                    "`{command}` failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            self.pattern
                .captures(&stdout)
                .and_then(|c| c.get(1))
                .map(|m| (username.to_owned(), m.as_str().to_owned()))
                .ok_or_else(|| {
                    format!("no token matching the pattern in the output of `{command}`")
                })
        })
    }
}

/// Tokens made beforehand: a file of `USERNAME TOKEN` lines, handed out in
/// order whatever name a case asks for. Tokens are single use, so each run
/// needs a fresh file.
pub struct TokenFile {
    tokens: Mutex<VecDeque<(String, String)>>,
}

impl TokenFile {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<TokenFile, String> {
        let mut tokens = VecDeque::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, token) = line
                .split_once(char::is_whitespace)
                .ok_or(format!("line {}: expected `USERNAME TOKEN`", n + 1))?;
            tokens.push_back((user.to_owned(), token.trim().to_owned()));
        }
        Ok(TokenFile {
            tokens: Mutex::new(tokens),
        })
    }
}

impl Provisioner for TokenFile {
    fn create<'a>(
        &'a self,
        _username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Pending, String>> + Send + 'a>> {
        Box::pin(async move {
            self.tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front()
                .ok_or_else(|| "the users file has no tokens left".to_owned())
        })
    }
}
