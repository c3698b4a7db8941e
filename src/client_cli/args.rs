//! The command line of `nanochat-client`, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

/// nanochat-client: chat on a NanoChat server from a shell or a script.
/// Keys stay on this machine, encrypted under your password; the server
/// only ever sees ciphertext.
#[derive(Debug, Parser)]
#[command(name = "nanochat-client", version)]
pub struct ClientCli {
    /// The server's base URL.
    #[arg(
        long,
        global = true,
        env = "NANOCHAT_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Your username on that server.
    #[arg(long, global = true, env = "NANOCHAT_USER")]
    pub user: Option<String>,
    /// A file whose first line is the password of your key (else you are
    /// asked, without echo).
    #[arg(long, global = true, env = "NANOCHAT_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Where your encrypted keys and pinned fingerprints live (default: the
    /// platform data directory, e.g. ~/.local/share/nanochat).
    #[arg(long, global = true, env = "NANOCHAT_HOME")]
    pub home: Option<PathBuf>,
    /// Print one JSON document per result (NDJSON for `watch`).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Complete your account with the token the operator gave you: makes
    /// (or imports) your key pair and keeps it encrypted on this machine.
    Complete(CompleteArgs),
    /// Check that this machine can unlock your key; without a local copy,
    /// fetch the server copy with the sync password.
    Login {
        /// A file whose first line is the sync password (else you are asked).
        #[arg(long)]
        sync_password_file: Option<PathBuf>,
        /// Fetch the server copy even without asking: use the sync password.
        #[arg(long)]
        sync: bool,
    },
    /// Your key pair: export, import, fingerprint, rotate.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Users: look one up, change or delete your account.
    #[command(subcommand)]
    User(UserCommand),
    /// Conversations you are a member of.
    #[command(subcommand)]
    Conversation(ConversationCommand),
    /// Messages in a conversation.
    #[command(subcommand)]
    Message(MessageCommand),
    /// Print events as they happen (all conversations, or one), reconnecting
    /// after drops.
    Watch {
        /// Only this conversation.
        conversation: Option<Uuid>,
        /// Stop after this many events (for scripts and tests).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Trust keys: accept a changed key, mark contacts verified, list pins.
    #[command(subcommand)]
    Trust(TrustCommand),
}

/// `complete`.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The complete token printed by `nanochat user create`.
    // Tokens are base64url, so one in 64 starts with '-': without this,
    // `--token -A4...` would be read as an unknown flag.
    #[arg(long, allow_hyphen_values = true)]
    pub token: String,
    /// The name others see.
    #[arg(long)]
    pub display_name: String,
    /// Also keep the encrypted key on the server, so another device can log
    /// in with the sync password.
    #[arg(long)]
    pub store_on_server: bool,
    /// A file whose first line is the sync password (with --store-on-server).
    #[arg(long, requires = "store_on_server")]
    pub sync_password_file: Option<PathBuf>,
    /// Use the key pair in this key file instead of making one.
    #[arg(long)]
    pub import: Option<PathBuf>,
    /// The password of an encrypted key file given with --import.
    #[arg(long, requires = "import")]
    pub import_password_file: Option<PathBuf>,
}

/// `keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write your key pair to a .json key file (plain unless --encrypt).
    Export {
        /// The file to write (created with mode 0600).
        file: PathBuf,
        /// Encrypt the private key with a password of its own.
        #[arg(long)]
        encrypt: bool,
        /// A file whose first line is that password (with --encrypt).
        #[arg(long, requires = "encrypt")]
        file_password_file: Option<PathBuf>,
    },
    /// Use the key pair of a key file on this machine.
    Import {
        /// The key file.
        file: PathBuf,
        /// A file whose first line is the key file's password, if encrypted.
        #[arg(long)]
        file_password_file: Option<PathBuf>,
    },
    /// Print your key's fingerprint (compare it with what others pinned).
    Fingerprint,
    /// A user's key history: rotations, chain starts, what you trust.
    ///
    /// One line per key, oldest first: its period, whether it is a rotation
    /// signed by the key before it or a chain start (their first key, or
    /// one set after an operator reset), and whether it is in the chain of
    /// keys you trust for them.
    History {
        /// The username.
        name: String,
    },
    /// Replace your key pair with a new one, vouched for by the current one:
    /// members of your conversations follow it without a warning, and this
    /// machine keeps your earlier keys so that nothing becomes unreadable.
    Rotate {
        /// Also replace the copy stored on the server (with every key).
        #[arg(long)]
        update_server_copy: bool,
        /// Rotate to the key pair in this key file instead of making one.
        #[arg(long)]
        to: Option<PathBuf>,
        /// A file whose first line is the password of the key file given
        /// with --to, if it is encrypted.
        #[arg(long)]
        to_password_file: Option<PathBuf>,
    },
}

/// `user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// A user's display name and key fingerprint (pinned on first sight).
    Show {
        /// The username.
        name: String,
    },
    /// Change your display name or the server copy of your key.
    Update {
        /// A new display name.
        #[arg(long)]
        display_name: Option<String>,
        /// Upload the encrypted key to the server (needs a sync password).
        #[arg(long, conflicts_with = "remove_from_server")]
        store_on_server: bool,
        /// A file whose first line is the sync password.
        #[arg(long)]
        sync_password_file: Option<PathBuf>,
        /// Delete the server copy of your key and the sync password.
        #[arg(long)]
        remove_from_server: bool,
    },
    /// Delete your account, immediately and irreversibly.
    Delete {
        /// Confirm: without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },
}

/// `conversation ...`.
#[derive(Debug, Subcommand)]
pub enum ConversationCommand {
    /// Start a conversation with one or more users.
    Create {
        /// The other members.
        #[arg(required = true)]
        members: Vec<String>,
        /// A name, sealed so only members can read it.
        #[arg(long)]
        name: Option<String>,
    },
    /// Your conversations, most recent first.
    List,
    /// One conversation: name, members with fingerprints, latest messages.
    Show {
        /// The conversation id.
        id: Uuid,
    },
    /// Rename a conversation (any member).
    Rename {
        /// The conversation id.
        id: Uuid,
        /// The new name.
        name: String,
    },
    /// Replace the member list (owner only; list everyone, yourself included).
    Members {
        /// The conversation id.
        id: Uuid,
        /// The complete new member list.
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Leave a conversation.
    Leave {
        /// The conversation id.
        id: Uuid,
    },
    /// Delete a conversation and its messages (owner only).
    Delete {
        /// The conversation id.
        id: Uuid,
    },
}

/// `message ...`.
#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// Send a text and/or a file.
    Send {
        /// The conversation id.
        conversation: Uuid,
        /// The text ("-" reads it from standard input).
        #[arg(long)]
        text: Option<String>,
        /// A file to attach.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// A page of history, newest first.
    List {
        /// The conversation id.
        conversation: Uuid,
        /// Older than this cursor (printed with each page).
        #[arg(long)]
        before: Option<String>,
        /// Messages per page.
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Replace the content of one of your messages.
    Edit {
        /// The conversation id.
        conversation: Uuid,
        /// The message id.
        message: Uuid,
        /// The new text.
        #[arg(long)]
        text: Option<String>,
        /// The new file.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Delete one of your messages.
    Delete {
        /// The conversation id.
        conversation: Uuid,
        /// The message id.
        message: Uuid,
    },
    /// Save a message's file, decrypted and checked against its signature.
    Download {
        /// The conversation id.
        conversation: Uuid,
        /// The message id.
        message: Uuid,
        /// Where to write it.
        #[arg(long)]
        output: PathBuf,
    },
}

/// `trust ...`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Accept a new server key.
    Server {
        /// Its fingerprint, as `nanochat server-key` prints it.
        fingerprint: String,
    },
    /// Accept a user's new key after an unexplained change.
    ///
    /// An unexplained change is a new key not signed by their previous one
    /// (an operator reset, or someone impersonating them): compare the
    /// fingerprint with them first. Accepting does not mark them verified.
    User {
        /// The username.
        name: String,
        /// Their new fingerprint, as they read it from `keys fingerprint`.
        fingerprint: String,
    },
    /// Mark a contact as verified after comparing fingerprints with them.
    ///
    /// Compare in person, or on a call. Refused unless the fingerprint is
    /// their current key as this device trusts it. The mark stays on this
    /// device (the server never sees it), follows their signed rotations,
    /// and is cleared by an unexplained change.
    Verify {
        /// The username.
        name: String,
        /// The fingerprint you compared, as they read it from `keys
        /// fingerprint`.
        fingerprint: String,
    },
    /// Take back the verified mark of a contact.
    Unverify {
        /// The username.
        name: String,
    },
    /// Every contact this device pinned: fingerprint, key index, verified.
    List,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{ClientCli, ClientCommand};

    #[test]
    fn a_token_may_start_with_a_hyphen() {
        let cli = ClientCli::try_parse_from([
            "nanochat-client",
            "--server",
            "http://127.0.0.1:1",
            "complete",
            "--token",
            "-A4_QMEwmVeoiuEsCwaTkpuXkFOTiEwGAy7zdQLqmcU",
            "--display-name",
            "Bob",
        ])
        .unwrap();
        match cli.command {
            ClientCommand::Complete(args) => {
                assert_eq!(args.token, "-A4_QMEwmVeoiuEsCwaTkpuXkFOTiEwGAy7zdQLqmcU")
            }
            other => panic!("{other:?}"),
        }
    }
}
