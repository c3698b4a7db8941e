//! Conversation names on the client: sealing a name for the members who
//! will read it, opening the sealed name a conversation carries, and the
//! [`Session`] calls that create, rename and re-seal (see "Conversation
//! names" in `api.yml`).

use uuid::Uuid;

use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::session::Session;
use crate::crypto::{self, CryptoError, PrivateKey, PublicKey, ReceivedName, RecipientDigest};
use crate::models::{
    BaseUser, Conversation, CreateConversation, ErrorCode, Member, MessageConversation, SealedName,
    WrappedKey,
};

/// Seals `name` at `revision` for `readers` (username and public key of
/// every member that will read it, the sealer included), signed by
/// `signer`: the wire form for `conversation.create` and
/// `conversation.update`.
pub fn seal(
    signer: &PrivateKey,
    conversation_id: Uuid,
    revision: i64,
    name: &str,
    readers: &[(String, PublicKey)],
) -> Result<SealedName, ClientError> {
    let revision = u64::try_from(revision)
        .map_err(|_| ClientError::InvalidResponse("negative name revision".into()))?;
    let members: Vec<(&str, &PublicKey)> = readers.iter().map(|(u, k)| (u.as_str(), k)).collect();
    let sealed = crypto::seal_name(signer, conversation_id, revision, name, &members)?;
    Ok(SealedName {
        revision: sealed.revision as i64,
        iv: sealed.iv.to_vec().into(),
        ciphertext: sealed.ciphertext.into(),
        keys: wrapped_keys(sealed.recipients),
        signature: sealed.signature.into(),
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

/// The wire form of the per-member key wraps the crypto core produced.
pub fn wrapped_keys(recipients: Vec<crate::crypto::RecipientKey>) -> Vec<WrappedKey> {
    recipients
        .into_iter()
        .map(|r| WrappedKey {
            username: r.username,
            key: r.wrapped_key.into(),
        })
        .collect()
}

/// The members of a conversation that have a public key, parsed: who a name
/// or a message is sealed for.
pub fn member_keys(members: &[Member]) -> Result<Vec<(String, PublicKey)>, ClientError> {
    members
        .iter()
        .filter(|m| !m.public_key.is_empty())
        .map(|m| Ok((m.username.clone(), PublicKey::from_spki_der(&m.public_key)?)))
        .collect()
}

/// Opens the name of `conversation` as `reader`: `Ok(None)` when it has
/// none. The signature is checked with the sealer's key from the member
/// list, so a name sealed by someone who is no longer a member (or whose
/// key has changed since) is refused, never shown as genuine.
pub fn open(
    conversation: &MessageConversation,
    reader: &str,
    reader_key: &PrivateKey,
) -> Result<Option<String>, ClientError> {
    let Some(name) = &conversation.name else {
        return Ok(None);
    };
    let key = name.key.as_ref().ok_or(CryptoError::NotARecipient)?;
    let sealer = conversation
        .members
        .iter()
        .find(|m| m.username == name.sealed_by && !m.public_key.is_empty())
        .ok_or_else(|| {
            ClientError::InvalidResponse(format!(
                "the name was sealed by {}, who is not a member with a key",
                name.sealed_by
            ))
        })?;
    let sealer_key = PublicKey::from_spki_der(&sealer.public_key)?;
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
    };
    Ok(Some(crypto::open_name(
        &received,
        reader,
        reader_key,
        &sealer_key,
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
                let mut readers = self.public_keys(members).await?;
                readers.push((self.username().to_owned(), self.own_public_key()?));
                readers.sort_by(|a, b| a.0.cmp(&b.0));
                readers.dedup_by(|a, b| a.0 == b.0);
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
        let name = match self.open_name(conversation)? {
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
        let Some(name) = self.open_name(conversation)? else {
            return Ok(None);
        };
        match self.rename_conversation(conversation, &name).await {
            Ok(updated) => Ok(Some(updated)),
            Err(ClientError::Api(e)) if e.code == ErrorCode::Conflict => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The name of `conversation`, opened with this session's key
    /// ([`open`]).
    pub fn open_name(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Option<String>, ClientError> {
        open(conversation, self.username(), self.require_signer()?)
    }

    /// The public keys of `usernames` from `user.get`, sorted by username.
    async fn public_keys(
        &self,
        usernames: &[&str],
    ) -> Result<Vec<(String, PublicKey)>, ClientError> {
        let mut keys = Vec::with_capacity(usernames.len());
        for username in usernames {
            let user = self
                .user_get(BaseUser {
                    username: (*username).to_owned(),
                })
                .await?;
            keys.push((user.username, PublicKey::from_spki_der(&user.public_key)?));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys.dedup_by(|a, b| a.0 == b.0);
        Ok(keys)
    }

    fn own_public_key(&self) -> Result<PublicKey, ClientError> {
        Ok(self.require_signer()?.public_key().clone())
    }

    /// Seals on the blocking pool: one RSA-OAEP wrap per reader and a PSS
    /// signature take milliseconds.
    async fn seal_blocking(
        &self,
        conversation_id: Uuid,
        revision: i64,
        name: &str,
        readers: Vec<(String, PublicKey)>,
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
