//! Creating the users a case needs on a server the suite does not control:
//! through the server's own user-creation command, or from tokens made
//! beforehand.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use regex::Regex;

pub use crate::case::OperatorAction;

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

    /// Creates a pending user whose token has already expired; `None` when
    /// this provisioner cannot (cases that need one are then skipped).
    fn create_expired<'a>(
        &'a self,
        _username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Pending>, String>> + Send + 'a>> {
        Box::pin(async { Ok(None) })
    }

    /// Whether [`Provisioner::operate`] can do `action` (cases that need
    /// it are skipped otherwise).
    fn can(&self, _action: OperatorAction) -> bool {
        false
    }

    /// Resets or deletes the existing user `username`, as the server's
    /// operator would.
    fn operate<'a>(
        &'a self,
        action: OperatorAction,
        _username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move { Err(format!("this provisioner cannot {action:?} users")) })
    }
}

/// Runs a shell command per user (`{username}` is replaced) and reads the
/// token from its output with a pattern whose first group is the token.
pub struct CommandProvisioner {
    command: String,
    expired_command: Option<String>,
    reset_command: Option<String>,
    delete_command: Option<String>,
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
            expired_command: None,
            reset_command: None,
            delete_command: None,
            pattern,
        })
    }

    /// Also resets (`nanochat user reset {username}`) and deletes
    /// (`nanochat user delete {username}`) users, for the cases that check
    /// how the server ends their sessions.
    pub fn with_operator(
        mut self,
        reset: Option<&str>,
        delete: Option<&str>,
    ) -> Result<Self, String> {
        for command in [reset, delete].into_iter().flatten() {
            if !command.contains("{username}") {
                return Err("an operator command must contain {username}".into());
            }
        }
        self.reset_command = reset.map(str::to_owned);
        self.delete_command = delete.map(str::to_owned);
        Ok(self)
    }

    async fn shell(command: &str) -> Result<String, String> {
        let output = tokio::process::Command::new("sh")
            .args(["-c", command])
            .output()
            .await
            .map_err(|e| format!("cannot run `{command}`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`{command}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Also creates users with an expired token, with a command whose
    /// token is expired by the time it exits (for NanoChat: `nanochat user
    /// create {username} --ttl 1s && sleep 2`).
    pub fn with_expired(mut self, command: &str) -> Result<Self, String> {
        if !command.contains("{username}") {
            return Err("the expired-token command must contain {username}".into());
        }
        self.expired_command = Some(command.to_owned());
        Ok(self)
    }

    async fn run(&self, template: &str, username: &str) -> Result<Pending, String> {
        // Usernames are checked by the suite to be [a-z0-9._-]: safe to
        // put in a shell command.
        let command = template.replace("{username}", username);
        let stdout = Self::shell(&command).await?;
        self.pattern
            .captures(&stdout)
            .and_then(|c| c.get(1))
            .map(|m| (username.to_owned(), m.as_str().to_owned()))
            .ok_or_else(|| {
                format!(
                    "no token in the output of `{command}`: looked for /{}/ (its first group is the token; set --token-pattern), the output was {:?}",
                    self.pattern.as_str(),
                    stdout.trim()
                )
            })
    }
}

impl Provisioner for CommandProvisioner {
    fn create<'a>(
        &'a self,
        username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Pending, String>> + Send + 'a>> {
        Box::pin(self.run(&self.command, username))
    }

    fn create_expired<'a>(
        &'a self,
        username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Pending>, String>> + Send + 'a>> {
        Box::pin(async move {
            match &self.expired_command {
                Some(command) => self.run(command, username).await.map(Some),
                None => Ok(None),
            }
        })
    }

    fn can(&self, action: OperatorAction) -> bool {
        match action {
            OperatorAction::Reset => self.reset_command.is_some(),
            OperatorAction::Delete => self.delete_command.is_some(),
        }
    }

    fn operate<'a>(
        &'a self,
        action: OperatorAction,
        username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let template = match action {
                OperatorAction::Reset => &self.reset_command,
                OperatorAction::Delete => &self.delete_command,
            };
            let template = template
                .as_deref()
                .ok_or_else(|| format!("no command to {action:?} users"))?;
            Self::shell(&template.replace("{username}", username))
                .await
                .map(drop)
        })
    }
}

/// Tokens made beforehand: a file of `USERNAME TOKEN` lines, handed out in
/// order whatever name a case asks for; `USERNAME TOKEN expired` lines hold
/// tokens that have already expired. Tokens are single use, so each run
/// needs a fresh file.
pub struct TokenFile {
    tokens: Mutex<VecDeque<(String, String)>>,
    expired: Mutex<VecDeque<(String, String)>>,
}

impl TokenFile {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<TokenFile, String> {
        let mut tokens = VecDeque::new();
        let mut expired = VecDeque::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [user, token] => tokens.push_back((user.to_string(), token.to_string())),
                [user, token, "expired"] => {
                    expired.push_back((user.to_string(), token.to_string()))
                }
                _ => {
                    return Err(format!(
                        "line {}: expected `USERNAME TOKEN` or `USERNAME TOKEN expired`",
                        n + 1
                    ));
                }
            }
        }
        Ok(TokenFile {
            tokens: Mutex::new(tokens),
            expired: Mutex::new(expired),
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

    fn create_expired<'a>(
        &'a self,
        _username: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Pending>, String>> + Send + 'a>> {
        Box::pin(async move {
            Ok(self
                .expired
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_users_file_hands_out_plain_and_expired_tokens_in_order() {
        let file = TokenFile::parse(
            "# made with nanochat user create\nu1 tok1\nu2 tok2 expired\n\nu3 tok3\n",
        )
        .unwrap();
        assert_eq!(
            file.create("x").await.unwrap(),
            ("u1".into(), "tok1".into())
        );
        assert_eq!(
            file.create("x").await.unwrap(),
            ("u3".into(), "tok3".into())
        );
        assert!(file.create("x").await.is_err(), "no plain tokens left");
        assert_eq!(
            file.create_expired("x").await.unwrap(),
            Some(("u2".into(), "tok2".into()))
        );
        assert_eq!(file.create_expired("x").await.unwrap(), None);
        assert!(TokenFile::parse("u1 tok1 stale\n").is_err());
        assert!(TokenFile::parse("u1\n").is_err());
    }

    #[tokio::test]
    async fn commands_need_the_username_and_find_the_token() {
        assert!(CommandProvisioner::new("true", DEFAULT_TOKEN_PATTERN).is_err());
        let provisioner =
            CommandProvisioner::new("echo complete token: t-{username}", DEFAULT_TOKEN_PATTERN)
                .unwrap();
        assert_eq!(provisioner.create_expired("a").await.unwrap(), None);
        let provisioner = provisioner
            .with_expired("echo complete token: old-{username}")
            .unwrap();
        assert_eq!(
            provisioner.create("a").await.unwrap(),
            ("a".into(), "t-a".into())
        );
        assert_eq!(
            provisioner.create_expired("b").await.unwrap(),
            Some(("b".into(), "old-b".into()))
        );
        let failing =
            CommandProvisioner::new("exit 3 # {username}", DEFAULT_TOKEN_PATTERN).unwrap();
        assert!(failing.create("a").await.unwrap_err().contains("failed"));
    }
}
