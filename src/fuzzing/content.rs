//! Target `content`: end-to-end message content and conversation names.
//! The first byte picks the mode:
//!
//! 0. The rest is the decrypted content plaintext:
//!    [`MessageContent::from_json_bytes`], which must round-trip.
//! 1. The rest is a [`Message`] as a reader receives it (JSON): the
//!    client's [`messages::received`] and [`messages::open`] as Bob (and as
//!    Alice), with Alice's key as the sender's: digests, the canonical
//!    signed bytes, the signature, and only then RSA and AES-GCM.
//! 2. The rest is a `message.create` payload ([`CreateMessage`]): the
//!    server's check (IV length, key digests, attachment digest, canonical
//!    bytes, Alice's signature) and, when it verifies, the sealed message as
//!    Bob reads it ([`SealedMessage::for_reader`], [`open_message`]).
//! 3. Attachments under the content key of a fixture message opened as
//!    Bob: the next byte's low bit picks whether the rest (IV, then data) is
//!    a ciphertext checked against its own digest or against a digest taken
//!    from the input, or (high bit) a plaintext sealed under the content key
//!    that [`crate::crypto::content::ContentKey::open_attachment`] must give
//!    back.
//! 4. The rest is a conversation as `conversation.get` returns it
//!    ([`MessageConversation`]): its sealed name opened by Bob
//!    ([`names::open`]) and every message in it.

use std::sync::OnceLock;

use uuid::Uuid;

use super::{fixtures, mode};
use crate::client::{messages, names};
use crate::crypto::{
    self, CryptoError, MessageContent, OpenedMessage, RecipientKey, SealedAttachment,
    SealedMessage, SignatureVersion, aead, message_signed_bytes_as, open_message,
};
use crate::models::{CreateMessage, Message, MessageConversation};

/// The conversation of the fixture message.
pub const CONVERSATION_ID: &str = "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90";
/// The fixture message's id.
pub const MESSAGE_ID: &str = "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b";

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    let (mode, rest) = mode(data, 5);
    match mode {
        0 => content_plaintext(rest),
        1 => {
            if let Ok(message) = serde_json::from_slice::<Message>(rest) {
                received(&message);
            }
        }
        2 => {
            if let Ok(upload) = serde_json::from_slice::<CreateMessage>(rest) {
                uploaded(&upload);
            }
        }
        3 => attachment(rest),
        _ => {
            if let Ok(conversation) = serde_json::from_slice::<MessageConversation>(rest) {
                let _ = names::open(
                    &conversation,
                    "bob",
                    &fixtures().bob,
                    fixtures().alice.public_key(),
                );
                for message in &conversation.messages {
                    received(message);
                }
            }
        }
    }
}

fn content_plaintext(data: &[u8]) {
    if let Ok(content) = MessageContent::from_json_bytes(data) {
        let json = content.to_json_bytes().expect("content re-encodes");
        assert_eq!(
            MessageContent::from_json_bytes(&json).expect("re-encoded content parses"),
            content
        );
    }
}

/// What a reader does with a message it received.
fn received(message: &Message) {
    let f = fixtures();
    if let Ok(parts) = messages::received(message, f.alice.public_key()) {
        let _ = parts.signed_bytes();
    }
    for (reader, key) in [("bob", &f.bob), ("alice", &f.alice)] {
        let (shown, opened) = messages::open(message, reader, Ok(key), Ok(f.alice.public_key()));
        // Content is shown as genuine only with the key that opens it.
        assert_eq!(shown.content().is_some(), opened.is_some());
    }
    let (shown, _) = messages::open(message, "bob", Ok(&f.bob), Err("unknown".into()));
    assert!(
        shown.content().is_none(),
        "no sender key, no verified content"
    );
}

/// What the server checks of an upload, then what Bob does with it.
fn uploaded(upload: &CreateMessage) {
    let f = fixtures();
    let Ok(content_iv) = <[u8; 12]>::try_from(upload.content_iv.as_slice()) else {
        return;
    };
    let attachment = match &upload.attachment {
        Some(a) => match <[u8; 12]>::try_from(a.iv.as_slice()) {
            Ok(iv) => Some(SealedAttachment {
                iv,
                data: a.data.to_vec(),
            }),
            Err(_) => return,
        },
        None => None,
    };
    let sealed = SealedMessage {
        conversation_id: upload.conversation_id,
        message_id: upload.id,
        content_iv,
        content: upload.content.to_vec(),
        attachment,
        recipients: upload
            .keys
            .iter()
            .map(|k| RecipientKey {
                username: k.username.clone(),
                wrapped_key: k.key.to_vec(),
            })
            .collect(),
        signature: upload.signature.to_vec(),
        version: match SignatureVersion::for_signer(
            upload.signature_version.unwrap_or(1),
            f.alice.public_key(),
        ) {
            Ok(version) => version,
            Err(_) => return,
        },
    };
    // The server's form of the signed bytes: digests it computed itself.
    let server_bytes = message_signed_bytes_as(
        sealed.version,
        &sealed.conversation_id,
        &sealed.message_id,
        &sealed.content_iv,
        &sealed.content,
        sealed.attachment_digest().as_ref(),
        &sealed.recipient_digests(),
    );
    assert_eq!(
        server_bytes,
        sealed.signed_bytes(),
        "one canonical encoding"
    );
    if sealed.verify_signature(f.alice.public_key()).is_err() {
        return;
    }
    let Ok(for_bob) = sealed.for_reader("bob") else {
        return;
    };
    assert_eq!(
        for_bob.signed_bytes(),
        server_bytes,
        "the reader signs-checks the same bytes"
    );
    if let Ok(opened) = open_message(&for_bob, "bob", &f.bob, f.alice.public_key()) {
        let _ = MessageContent::from_json_bytes(&opened.content);
        if let (Some(a), Some(digest)) = (&sealed.attachment, for_bob.attachment_digest) {
            let _ = opened.content_key.open_attachment(a, &digest);
        }
    }
}

/// A fixture message sealed by Alice for Alice and Bob, opened by Bob.
fn opened_fixture() -> &'static OpenedMessage {
    static OPENED: OnceLock<OpenedMessage> = OnceLock::new();
    OPENED.get_or_init(|| {
        let f = fixtures();
        let content = MessageContent {
            text: Some("fixture".to_owned()),
            file_name: Some("notes.txt".to_owned()),
            file_type: Some("text/plain".to_owned()),
        };
        let sealed = crypto::seal_message(
            &f.alice,
            Uuid::parse_str(CONVERSATION_ID).expect("a UUID"),
            Uuid::parse_str(MESSAGE_ID).expect("a UUID"),
            &content.to_json_bytes().expect("content encodes"),
            Some(b"attachment"),
            &[("alice", f.alice.public_key()), ("bob", f.bob.public_key())],
        )
        .expect("sealing the fixture message");
        let received = sealed.for_reader("bob").expect("bob is a recipient");
        open_message(&received, "bob", &f.bob, f.alice.public_key()).expect("bob opens it")
    })
}

/// Mode 3: attachments.
fn attachment(data: &[u8]) {
    let key = &opened_fixture().content_key;
    let (flags, rest) = match data.split_first() {
        Some((flags, rest)) => (*flags, rest),
        None => (0, data),
    };
    if flags & 0x80 != 0 {
        let iv = [9u8; 12];
        let sealed = SealedAttachment {
            iv,
            data: aead::encrypt(key.expose_key(), &iv, &[], rest)
                .expect("AES-GCM input below its limit"),
        };
        let opened = key
            .open_attachment(&sealed, &sealed.digest())
            .expect("an attachment sealed under the key opens");
        assert_eq!(opened, rest);
        return;
    }
    let Some((iv, rest)) = rest.split_first_chunk::<12>() else {
        return;
    };
    let (digest, ciphertext) = if flags & 1 == 0 {
        (None, rest)
    } else {
        match rest.split_first_chunk::<32>() {
            Some((digest, ciphertext)) => (Some(*digest), ciphertext),
            None => return,
        }
    };
    let sealed = SealedAttachment {
        iv: *iv,
        data: ciphertext.to_vec(),
    };
    let digest = digest.unwrap_or_else(|| sealed.digest());
    match key.open_attachment(&sealed, &digest) {
        Ok(_)
        | Err(
            CryptoError::AttachmentMismatch | CryptoError::Decrypt | CryptoError::BadLength { .. },
        ) => {}
        Err(other) => panic!("an attachment fails with {other:?}"),
    }
}
