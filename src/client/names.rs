//! Conversation names on the client: sealing a name for the members who
//! will read it, opening the sealed name a conversation carries, and the
//! [`Session`] calls that create, rename and re-seal (see "Conversation
//! names" in `api.yml`).

use uuid::Uuid;

use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::history;
use crate::client::session::Session;
use crate::crypto::{
    self, CryptoError, PrivateKey, PublicKey, ReceivedName, RecipientDigest, SignatureVersion,
};
use crate::models::{
    BaseUser, Conversation, CreateConversation, ErrorCode, Member, MessageConversation, SealedName,
    WrappedKey,
};

/// A member content or a name is sealed for: their current key and its
/// index in their key history (`None` when the server did not say).
#[derive(Debug, Clone)]
pub struct Reader {
    /// The member.
    pub username: String,
    /// Their current public key.
    pub key: PublicKey,
    /// Its index in their key history.
    pub key_index: Option<i64>,
}

/// Seals `name` at `revision` for `readers` (every member that will read
/// it, the sealer included), signed by `signer` over the keyed bytes
/// (signature version 2): the wire form for `conversation.create` and
/// `conversation.update`.
pub fn seal(
    signer: &PrivateKey,
    conversation_id: Uuid,
    revision: i64,
    name: &str,
    readers: &[Reader],
) -> Result<SealedName, ClientError> {
    let revision = u64::try_from(revision)
        .map_err(|_| ClientError::InvalidResponse("negative name revision".into()))?;
    let members: Vec<(&str, &PublicKey)> = readers
        .iter()
        .map(|r| (r.username.as_str(), &r.key))
        .collect();
    let sealed = crypto::seal_name_keyed(signer, conversation_id, revision, name, &members)?;
    Ok(SealedName {
        revision: sealed.revision as i64,
        iv: sealed.iv.to_vec().into(),
        ciphertext: sealed.ciphertext.into(),
        keys: wrapped_keys(sealed.recipients, readers),
        signature: sealed.signature.into(),
        signature_version: Some(sealed.version.number()),
    })
}

/// The signed recipient list of a message or name as the crypto core reads
/// it; a digest that is not 32 bytes is malformed.
pub fn recipient_digests(
    recipients: &[crate::models::RecipientDigest],
) -> Result<Vec<RecipientDigest>, CryptoError> {
    recipients
        .iter()
        .map(|r| {
            Ok(RecipientDigest {
                username: r.username.clone(),
                key_digest: r
                    .key_digest
                    .as_slice()
                    .try_into()
                    .map_err(|_| CryptoError::Malformed("key digest is not 32 bytes"))?,
            })
        })
        .collect()
}

/// The wire form of the per-member key wraps the crypto core produced,
/// each naming the index of the key it is wrapped for.
pub fn wrapped_keys(
    recipients: Vec<crate::crypto::RecipientKey>,
    readers: &[Reader],
) -> Vec<WrappedKey> {
    recipients
        .into_iter()
        .map(|r| WrappedKey {
            key_index: readers
                .iter()
                .find(|reader| reader.username == r.username)
                .and_then(|reader| reader.key_index),
            username: r.username,
            key: r.wrapped_key.into(),
        })
        .collect()
}

/// The members of a conversation that have a public key, parsed: who a name
/// or a message is sealed for.
pub fn member_keys(members: &[Member]) -> Result<Vec<Reader>, ClientError> {
    members
        .iter()
        .filter(|m| !m.public_key.is_empty())
        .map(|m| {
            Ok(Reader {
                username: m.username.clone(),
                key: PublicKey::from_spki_der(&m.public_key)?,
                key_index: m.key_index,
            })
        })
        .collect()
}

/// The member who sealed the name of `conversation`, who must be a member
/// with a key: a name sealed by someone who left is refused.
pub fn sealer_member(conversation: &MessageConversation) -> Result<Option<&Member>, ClientError> {
    let Some(name) = &conversation.name else {
        return Ok(None);
    };
    conversation
        .members
        .iter()
        .find(|m| m.username == name.sealed_by && !m.public_key.is_empty())
        .map(Some)
        .ok_or_else(|| {
            ClientError::InvalidResponse(format!(
                "the name was sealed by {}, who is not a member with a key",
                name.sealed_by
            ))
        })
}

/// Opens the name of `conversation` as `reader` with `reader_key` (the
/// reader's key the name key is wrapped for), checking the signature with
/// `sealer_key` (the sealer's key at `sealer_key_index`, which the caller
/// found in the sealer's trusted chain): `Ok(None)` when it has none.
pub fn open(
    conversation: &MessageConversation,
    reader: &str,
    reader_key: &PrivateKey,
    sealer_key: &PublicKey,
) -> Result<Option<String>, ClientError> {
    let Some(name) = &conversation.name else {
        return Ok(None);
    };
    let key = name.key.as_ref().ok_or(CryptoError::NotARecipient)?;
    let version = SignatureVersion::for_signer(name.signature_version.unwrap_or(1), sealer_key)?;
    let received = ReceivedName {
        conversation_id: conversation.id,
        revision: u64::try_from(name.revision)
            .map_err(|_| ClientError::InvalidResponse("negative name revision".into()))?,
        iv: name
            .iv
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed("name iv is not 12 bytes"))?,
        ciphertext: name.ciphertext.to_vec(),
        recipients: recipient_digests(&name.recipients)?,
        wrapped_key: key.to_vec(),
        signature: name.signature.to_vec(),
        version,
    };
    Ok(Some(crypto::open_name(
        &received, reader, reader_key, sealer_key,
    )?))
}

impl Session {
    /// Creates a conversation with `members` (usernames; the caller is
    /// added as owner) under a fresh random id, with `name` sealed for every
    /// member if given. The other members' public keys come from
    /// `user.get`.
    pub async fn create_conversation(
        &self,
        members: &[&str],
        name: Option<&str>,
    ) -> Result<MessageConversation, ClientError> {
        let id = Uuid::new_v4();
        let name = match name {
            Some(name) => {
                let mut names: Vec<&str> = members.to_vec();
                names.push(self.username());
                let readers = self.public_keys(&names).await?;
                Some(self.seal_blocking(id, 1, name, readers).await?)
            }
            None => None,
        };
        self.conversation_create(CreateConversation {
            id,
            name,
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        })
        .await
    }

    /// Renames `conversation` (as last fetched) to `name`, sealed for its
    /// current members at the next revision. `conflict` means someone else
    /// changed the name first: fetch again and decide again.
    pub async fn rename_conversation(
        &self,
        conversation: &MessageConversation,
        name: &str,
    ) -> Result<MessageConversation, ClientError> {
        let readers = member_keys(&conversation.members)?;
        let sealed = self
            .seal_blocking(
                conversation.id,
                conversation.name_revision + 1,
                name,
                readers,
            )
            .await?;
        self.conversation_update(Conversation {
            id: conversation.id,
            name: Some(sealed),
            remove_name: None,
            members: None,
        })
        .await
    }

    /// Replaces the member list of `conversation` (owner only). A named
    /// conversation's name is opened and re-sealed for the new members in
    /// the same request, so added members can read it.
    pub async fn set_members(
        &self,
        conversation: &MessageConversation,
        members: &[&str],
    ) -> Result<MessageConversation, ClientError> {
        let name = match self.open_name(conversation).await? {
            Some(name) => {
                let readers = self.public_keys(members).await?;
                Some(
                    self.seal_blocking(
                        conversation.id,
                        conversation.name_revision + 1,
                        &name,
                        readers,
                    )
                    .await?,
                )
            }
            None => None,
        };
        self.conversation_update(Conversation {
            id: conversation.id,
            name,
            remove_name: None,
            members: Some(members.iter().map(|m| (*m).to_owned()).collect()),
        })
        .await
    }

    /// Re-seals the unchanged name of `conversation` for the current keys
    /// when the server marks it `reseal` and this session can read it.
    /// Returns the updated conversation, or `None` when nothing was to do
    /// or another member re-sealed (or renamed) first (`conflict`).
    pub async fn reseal_name(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Option<MessageConversation>, ClientError> {
        if !conversation.name.as_ref().is_some_and(|n| n.reseal) {
            return Ok(None);
        }
        let Some(name) = self.open_name(conversation).await? else {
            return Ok(None);
        };
        match self.rename_conversation(conversation, &name).await {
            Ok(updated) => Ok(Some(updated)),
            Err(ClientError::Api(e)) if e.code == ErrorCode::Conflict => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The name of `conversation`, opened with this session's key for it
    /// ([`Session::own_key_at`]). The sealer's key is their current member
    /// key, or, for a name they sealed before a rotation, the key their
    /// history holds at `sealer_key_index`, trusted only when the history
    /// links it to their current key (walking back from it). Frontends
    /// that pin keys use [`crate::client::Chat`], which walks from the pin.
    pub async fn open_name(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Option<String>, ClientError> {
        let (Some(name), Some(sealer)) = (&conversation.name, sealer_member(conversation)?) else {
            return Ok(None);
        };
        let current = PublicKey::from_spki_der(&sealer.public_key)?;
        let wanted = name.sealer_key_index.unwrap_or(0);
        let sealer_key = match sealer.key_index {
            Some(index) if index != wanted => {
                let history = self
                    .user_keys(BaseUser {
                        username: sealer.username.clone(),
                    })
                    .await?;
                let chain = history::verify(&history, index, &current.fingerprint())?;
                chain
                    .key(wanted)
                    .map(|k| k.key.clone())
                    .ok_or_else(|| {
                        ClientError::Unverified(format!(
                            "the name was sealed with key {wanted} of {}, which their current key does not vouch for",
                            sealer.username
                        ))
                    })?
            }
            _ => current,
        };
        let reader_key = self.own_key_at(name.key_index)?;
        open(conversation, self.username(), reader_key, &sealer_key)
    }

    /// The public keys of `usernames` from `user.get` with their indexes,
    /// sorted by username.
    async fn public_keys(&self, usernames: &[&str]) -> Result<Vec<Reader>, ClientError> {
        let mut keys = Vec::with_capacity(usernames.len());
        for username in usernames {
            let user = self
                .user_get(BaseUser {
                    username: (*username).to_owned(),
                })
                .await?;
            keys.push(Reader {
                key: PublicKey::from_spki_der(&user.public_key)?,
                key_index: Some(user.key_index),
                username: user.username,
            });
        }
        keys.sort_by(|a, b| a.username.cmp(&b.username));
        keys.dedup_by(|a, b| a.username == b.username);
        Ok(keys)
    }

    /// Seals on the blocking pool: one RSA-OAEP wrap per reader and a PSS
    /// signature take milliseconds.
    async fn seal_blocking(
        &self,
        conversation_id: Uuid,
        revision: i64,
        name: &str,
        readers: Vec<Reader>,
    ) -> Result<SealedName, ClientError> {
        let signer = self.require_signer()?.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            seal(&signer, conversation_id, revision, &name, &readers)
        })
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?
    }
}
