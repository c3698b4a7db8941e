//! A minimal frontend on the client library: log in, send one message, then
//! print incoming messages as they arrive (decrypted and verified).
//!
//! ```sh
//! NANOCHAT_SERVER=http://127.0.0.1:8080 NANOCHAT_USER=alice \
//! NANOCHAT_PASSWORD='the password of alice's key' \
//!   cargo run --example chat -- CONVERSATION_ID "hello from the example"
//! ```
//!
//! It uses the key `nanochat-client complete` (or `login`) left in the
//! home directory (`NANOCHAT_HOME`, else the platform data directory).

use nanochat::bodies::Event;
use nanochat::client::messages::Verdict;
use nanochat::client::{Chat, EventStream, Home};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let server = env("NANOCHAT_SERVER")?;
    let user = env("NANOCHAT_USER")?;
    let password = zeroize::Zeroizing::new(env("NANOCHAT_PASSWORD")?);
    let mut args = std::env::args().skip(1);
    let conversation = args
        .next()
        .ok_or("usage: chat CONVERSATION_ID [TEXT]")?
        .parse()?;
    let home = match std::env::var_os("NANOCHAT_HOME") {
        Some(path) => Home::new(path),
        None => Home::platform_default().ok_or("no home directory: set NANOCHAT_HOME")?,
    };

    // Connecting pins the server key on first use; logging in decrypts the
    // locally stored key with the password, in memory only.
    let mut chat = Chat::connect(home, &server, &user).await?;
    chat.login(password.as_bytes(), None).await?;

    if let Some(text) = args.next() {
        let sent = chat.send(conversation, Some(&text), None).await?;
        println!("sent {}", sent.id);
    }

    let conversation = chat.conversation(conversation).await?;
    let mut events = EventStream::open(chat.session()).await?;
    loop {
        if let Event::MessageCreated(message) = events.next().await? {
            if message.conversation_id != conversation.id {
                continue;
            }
            for opened in chat.open_all(&conversation, vec![message]).await? {
                match opened.verdict {
                    Verdict::Verified(content) => {
                        println!("{}: {}", opened.sender, content.text.unwrap_or_default())
                    }
                    Verdict::Unverified(why) => {
                        println!("{}: (unverified message: {why})", opened.sender)
                    }
                }
            }
        }
    }
}
