//! A NanoChat user on the Rust client, driven line by line over stdin and
//! stdout, so the browser tests (`web/e2e/`) can put a Rust-client user in
//! the same conversation as browser users and check both directions.
//!
//! ```text
//! cargo run --example web_peer -- URL USERNAME TOKEN
//! ```
//!
//! It completes USERNAME with a freshly generated key and prints
//! `{"ready":true,"fingerprint":"..."}`, then answers one JSON command per
//! line with one JSON line:
//!
//! - `{"cmd":"list"}` → `{"conversations":[{"id":"...","name":"..."}]}`
//! - `{"cmd":"send","conversation":"<id>","text":"..."}` → `{"sent":"<message id>"}`
//! - `{"cmd":"read","conversation":"<id>"}` →
//!   `{"name":"...","messages":[{"sender":"...","text":"...","file_name":"...","verified":true}]}`
//!
//! Any failure is answered `{"error":"..."}`; end of input ends the program.

use std::io::{BufRead, Write};

use nanochat::client::{Bodies, Session};
use nanochat::crypto::{
    MessageContent, PrivateKey, PublicKey, ReceivedMessage, RecipientDigest, open_message,
    seal_message,
};
use nanochat::models::{
    BaseConversation, CompleteUser, CreateMessage, Message, MessageConversation, WrappedKey,
};
use nanochat::wire::Secret;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, username, token] = args.as_slice() else {
        anyhow::bail!("usage: web_peer URL USERNAME TOKEN");
    };
    let key = PrivateKey::generate()?;
    let session = Session::connect(url, username, Some(key.clone())).await?;
    session
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: format!("{username} (Rust client)"),
            public_key: key.public_key().to_spki_der().to_vec().into(),
            private_key: None,
            sync_password: None,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        json!({"ready": true, "fingerprint": key.fingerprint().to_string()})
    )?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let answer = match answer(&session, &key, &line?).await {
            Ok(value) => value,
            Err(e) => json!({"error": e.to_string()}),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}

/// Carries out one command.
async fn answer(session: &Session, key: &PrivateKey, line: &str) -> anyhow::Result<Value> {
    let command: Value = serde_json::from_str(line)?;
    let conversation = || -> anyhow::Result<Uuid> {
        let id = command["conversation"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the command needs a conversation id"))?;
        Ok(Uuid::parse_str(id)?)
    };
    match command["cmd"].as_str() {
        Some("list") => {
            let list = session.conversation_list().await?;
            let mut items: Vec<Value> = Vec::with_capacity(list.items.len());
            for c in &list.items {
                let name = session.open_name(c).await.ok().flatten();
                items.push(json!({"id": c.id, "name": name}));
            }
            Ok(json!({"conversations": items}))
        }
        Some("send") => {
            let text = command["text"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("send needs a text"))?;
            let conversation = session
                .conversation_get(BaseConversation {
                    id: conversation()?,
                })
                .await?;
            let message = seal(key, &conversation, text)?;
            let sent = session.message_create(message).await?;
            Ok(json!({"sent": sent.id}))
        }
        Some("read") => {
            let conversation = session
                .conversation_get(BaseConversation {
                    id: conversation()?,
                })
                .await?;
            let messages: Vec<Value> = conversation
                .messages
                .iter()
                .rev()
                .map(|m| read(session.username(), key, &conversation, m))
                .collect();
            let name = session.open_name(&conversation).await?;
            Ok(json!({"name": name, "messages": messages}))
        }
        other => anyhow::bail!("unknown command {other:?}"),
    }
}

/// Seals `text` for every member of `conversation` that has a key.
fn seal(
    key: &PrivateKey,
    conversation: &MessageConversation,
    text: &str,
) -> anyhow::Result<CreateMessage> {
    let keys = member_keys(conversation)?;
    let members: Vec<(&str, &PublicKey)> = keys.iter().map(|(n, k)| (n.as_str(), k)).collect();
    let content = MessageContent {
        text: Some(text.to_owned()),
        file_name: None,
        file_type: None,
    };
    let id = Uuid::new_v4();
    let sealed = seal_message(
        key,
        conversation.id,
        id,
        &content.to_json_bytes()?,
        None,
        &members,
    )?;
    Ok(CreateMessage {
        conversation_id: conversation.id,
        id,
        content_iv: sealed.content_iv.to_vec().into(),
        content: sealed.content.into(),
        attachment: None,
        keys: sealed
            .recipients
            .into_iter()
            .map(|r| WrappedKey {
                username: r.username,
                key: r.wrapped_key.into(),
                key_index: None,
            })
            .collect(),
        signature: sealed.signature.into(),
        // This peer signs the version 1 bytes on purpose, as the web app
        // still does: the server and both clients keep accepting them.
        signature_version: None,
    })
}

/// The members' public keys, skipping members without one.
fn member_keys(conversation: &MessageConversation) -> anyhow::Result<Vec<(String, PublicKey)>> {
    conversation
        .members
        .iter()
        .filter(|m| !m.public_key.is_empty())
        .map(|m| Ok((m.username.clone(), PublicKey::from_spki_der(&m.public_key)?)))
        .collect()
}

/// Opens one message; one that does not verify is reported as such.
fn read(reader: &str, key: &PrivateKey, conversation: &MessageConversation, m: &Message) -> Value {
    let opened = (|| -> anyhow::Result<MessageContent> {
        let sender = conversation
            .members
            .iter()
            .find(|member| member.username == m.sender)
            .ok_or_else(|| anyhow::anyhow!("the sender is not a member"))?;
        let sender_key = PublicKey::from_spki_der(&sender.public_key)?;
        let received = ReceivedMessage {
            conversation_id: m.conversation_id,
            message_id: m.id,
            content_iv: m.content_iv.as_slice().try_into()?,
            content: m.content.to_vec(),
            attachment_digest: m
                .attachment
                .as_ref()
                .map(|a| a.digest.as_slice().try_into())
                .transpose()?,
            recipients: m
                .recipients
                .iter()
                .map(|r| {
                    Ok(RecipientDigest {
                        username: r.username.clone(),
                        key_digest: r.key_digest.as_slice().try_into()?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            wrapped_key: m.key.to_vec(),
            signature: m.signature.to_vec(),
            version: nanochat::crypto::SignatureVersion::for_signer(
                m.signature_version.unwrap_or(1),
                &sender_key,
            )?,
        };
        let opened = open_message(&received, reader, key, &sender_key)?;
        Ok(MessageContent::from_json_bytes(&opened.content)?)
    })();
    match opened {
        Ok(content) => json!({
            "sender": m.sender,
            "text": content.text,
            "file_name": content.file_name,
            "verified": true,
        }),
        Err(e) => json!({"sender": m.sender, "verified": false, "error": e.to_string()}),
    }
}
