// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.

/// Every request body type of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyType {
    /// `session.open`: Opens an event session on a WebSocket; must be the first frame there. Over POST /encrypted, or as a later frame of a socket whose session is open, it gets bad_request (encrypted) and the socket keeps its session. session_required is the plain answer to any other first frame.
    SessionOpen,
    /// `user.complete`: Completes a user created by the operator, with the one-time complete token; signed with the new private key (proof of possession).
    UserComplete,
    /// `user.sync`: Fetches the password-encrypted private key stored on the server, for the right sync password. The only unsigned request. An unknown user, a pending user, a user without a stored key and a wrong password all get the same wrong_password (never unknown_user), and each counts as a failed attempt, so the answer does not reveal which usernames exist. After 5 failed attempts for a username within 15 minutes, user.sync answers rate_limited, before the password is checked and even for the right one, until the window has passed (a server may also limit failed attempts per client address). A successful user.sync clears the username's failed attempts (not the per-address count, which only the window clears).
    UserSync,
    /// `user.get`: Looks up a user's display name and public key (to pin it and check its fingerprint).
    UserGet,
    /// `user.keys`: A user's key history, oldest first (see Key history in the info description), to verify a rotation or an earlier key from a pinned one. A pending user (reset by the operator) has one, without a current key; an unknown user gets not_found.
    UserKeys,
    /// `user.update`: Changes the caller's display name, key pair, server-stored private key or sync password. A new public_key (a rotation) needs succession_signature and public_key_signature (see Key history) and becomes the next entry of the caller's key history; every session of the caller ends (close code 4001; the rotating client opens a new one with its new key). Members of shared conversations get event.user.key_changed when the public key changes.
    UserUpdate,
    /// `user.delete`: Deletes the caller, immediately and irreversibly. The caller leaves every conversation (conversations they own pass to the longest-standing member, and a conversation left without members is deleted) and every message they sent is deleted.
    UserDelete,
    /// `conversation.create`: Creates a conversation between the caller (its owner) and one or more other users, with the id the caller chose and optionally a sealed name (revision 1). Every member must be a completed user; an unknown or pending one (created or reset and not yet completed) gets not_found, as does adding one with conversation.update. After the pipeline's checks (see Check order in the info description) it checks the member count (too_large) before anything else, before it looks the members up (not_found), checks the sealed name or the id (conflict).
    ConversationCreate,
    /// `conversation.update`: Sets, re-seals or removes the sealed name (any member) and/or replaces the member list (owner only; the owner stays a member; a named conversation needs its name re-sealed for the new members). The members after the change get event.conversation.updated; each removed member gets event.conversation.removed.
    ConversationUpdate,
    /// `conversation.leave`: The caller leaves the conversation. An owner who leaves passes ownership to the longest-standing member; the last member to leave deletes it.
    ConversationLeave,
    /// `conversation.delete`: Deletes the conversation and all its messages (owner only).
    ConversationDelete,
    /// `conversation.get`: One conversation with its members' public keys and the latest page of messages.
    ConversationGet,
    /// `conversation.list`: Every conversation of the caller, most recently active first, each with its latest message only.
    ConversationList,
    /// `message.create`: Posts an end-to-end encrypted message; keys must name exactly the current members. A repeat (same sender, conversation and id, byte-identical sealed upload; see Retries under Message content in the info description) gets the stored message as it is now and stores nothing and sends no event; any other use of the id of an existing or deleted message is conflict.
    MessageCreate,
    /// `message.update`: Replaces a message's content with a fresh content key (sender only).
    MessageUpdate,
    /// `message.delete`: Deletes a message (sender only).
    MessageDelete,
    /// `message.list`: A page of a conversation's history, newest first, before an optional opaque cursor (see ListMessages.before for cursors the server did not issue).
    MessageList,
    /// `message.attachment`: Downloads one message's encrypted attachment; lists never inline attachment bytes.
    MessageAttachment,
}
impl BodyType {
    /// Every request type, in catalogue order.
    pub const ALL: &'static [BodyType] = &[
        BodyType::SessionOpen,
        BodyType::UserComplete,
        BodyType::UserSync,
        BodyType::UserGet,
        BodyType::UserKeys,
        BodyType::UserUpdate,
        BodyType::UserDelete,
        BodyType::ConversationCreate,
        BodyType::ConversationUpdate,
        BodyType::ConversationLeave,
        BodyType::ConversationDelete,
        BodyType::ConversationGet,
        BodyType::ConversationList,
        BodyType::MessageCreate,
        BodyType::MessageUpdate,
        BodyType::MessageDelete,
        BodyType::MessageList,
        BodyType::MessageAttachment,
    ];
    /// The wire name, for example `conversation.create`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SessionOpen => "session.open",
            BodyType::UserComplete => "user.complete",
            BodyType::UserSync => "user.sync",
            BodyType::UserGet => "user.get",
            BodyType::UserKeys => "user.keys",
            BodyType::UserUpdate => "user.update",
            BodyType::UserDelete => "user.delete",
            BodyType::ConversationCreate => "conversation.create",
            BodyType::ConversationUpdate => "conversation.update",
            BodyType::ConversationLeave => "conversation.leave",
            BodyType::ConversationDelete => "conversation.delete",
            BodyType::ConversationGet => "conversation.get",
            BodyType::ConversationList => "conversation.list",
            BodyType::MessageCreate => "message.create",
            BodyType::MessageUpdate => "message.update",
            BodyType::MessageDelete => "message.delete",
            BodyType::MessageList => "message.list",
            BodyType::MessageAttachment => "message.attachment",
        }
    }
    /// The type called `name` on the wire, if the catalogue has it.
    pub fn from_name(name: &str) -> Option<BodyType> {
        match name {
            "session.open" => Some(BodyType::SessionOpen),
            "user.complete" => Some(BodyType::UserComplete),
            "user.sync" => Some(BodyType::UserSync),
            "user.get" => Some(BodyType::UserGet),
            "user.keys" => Some(BodyType::UserKeys),
            "user.update" => Some(BodyType::UserUpdate),
            "user.delete" => Some(BodyType::UserDelete),
            "conversation.create" => Some(BodyType::ConversationCreate),
            "conversation.update" => Some(BodyType::ConversationUpdate),
            "conversation.leave" => Some(BodyType::ConversationLeave),
            "conversation.delete" => Some(BodyType::ConversationDelete),
            "conversation.get" => Some(BodyType::ConversationGet),
            "conversation.list" => Some(BodyType::ConversationList),
            "message.create" => Some(BodyType::MessageCreate),
            "message.update" => Some(BodyType::MessageUpdate),
            "message.delete" => Some(BodyType::MessageDelete),
            "message.list" => Some(BodyType::MessageList),
            "message.attachment" => Some(BodyType::MessageAttachment),
            _ => None,
        }
    }
    /// Whether the envelope must carry the user's signature.
    pub fn is_signed(self) -> bool {
        match self {
            BodyType::SessionOpen => true,
            BodyType::UserComplete => true,
            BodyType::UserSync => false,
            BodyType::UserGet => true,
            BodyType::UserKeys => true,
            BodyType::UserUpdate => true,
            BodyType::UserDelete => true,
            BodyType::ConversationCreate => true,
            BodyType::ConversationUpdate => true,
            BodyType::ConversationLeave => true,
            BodyType::ConversationDelete => true,
            BodyType::ConversationGet => true,
            BodyType::ConversationList => true,
            BodyType::MessageCreate => true,
            BodyType::MessageUpdate => true,
            BodyType::MessageDelete => true,
            BodyType::MessageList => true,
            BodyType::MessageAttachment => true,
        }
    }
    /// The error codes this type may return beyond the common ones.
    pub fn errors(self) -> &'static [crate::models::ErrorCode] {
        match self {
            BodyType::SessionOpen => {
                &[
                    crate::models::ErrorCode::BadRequest,
                    crate::models::ErrorCode::SessionRequired,
                ]
            }
            BodyType::UserComplete => {
                &[
                    crate::models::ErrorCode::InvalidToken,
                    crate::models::ErrorCode::InvalidKey,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::UserSync => {
                &[
                    crate::models::ErrorCode::WrongPassword,
                    crate::models::ErrorCode::RateLimited,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::UserGet => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::UserKeys => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::UserUpdate => {
                &[
                    crate::models::ErrorCode::InvalidKey,
                    crate::models::ErrorCode::BadSignature,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::UserDelete => &[],
            BodyType::ConversationCreate => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Conflict,
                    crate::models::ErrorCode::MembersMismatch,
                    crate::models::ErrorCode::BadSignature,
                    crate::models::ErrorCode::TooLarge,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::ConversationUpdate => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Forbidden,
                    crate::models::ErrorCode::Conflict,
                    crate::models::ErrorCode::MembersMismatch,
                    crate::models::ErrorCode::BadSignature,
                    crate::models::ErrorCode::TooLarge,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::ConversationLeave => &[crate::models::ErrorCode::NotFound],
            BodyType::ConversationDelete => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Forbidden,
                ]
            }
            BodyType::ConversationGet => &[crate::models::ErrorCode::NotFound],
            BodyType::ConversationList => &[],
            BodyType::MessageCreate => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Conflict,
                    crate::models::ErrorCode::MembersMismatch,
                    crate::models::ErrorCode::TooLarge,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::MessageUpdate => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Forbidden,
                    crate::models::ErrorCode::MembersMismatch,
                    crate::models::ErrorCode::TooLarge,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::MessageDelete => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::Forbidden,
                ]
            }
            BodyType::MessageList => {
                &[
                    crate::models::ErrorCode::NotFound,
                    crate::models::ErrorCode::BadRequest,
                ]
            }
            BodyType::MessageAttachment => &[crate::models::ErrorCode::NotFound],
        }
    }
    /// The payload schema name, or `None` when the type has no payload.
    pub fn payload_schema(self) -> Option<&'static str> {
        match self {
            BodyType::SessionOpen => None,
            BodyType::UserComplete => Some("CompleteUser"),
            BodyType::UserSync => Some("SyncUser"),
            BodyType::UserGet => Some("BaseUser"),
            BodyType::UserKeys => Some("BaseUser"),
            BodyType::UserUpdate => Some("UpdateUser"),
            BodyType::UserDelete => None,
            BodyType::ConversationCreate => Some("CreateConversation"),
            BodyType::ConversationUpdate => Some("Conversation"),
            BodyType::ConversationLeave => Some("BaseConversation"),
            BodyType::ConversationDelete => Some("BaseConversation"),
            BodyType::ConversationGet => Some("BaseConversation"),
            BodyType::ConversationList => None,
            BodyType::MessageCreate => Some("CreateMessage"),
            BodyType::MessageUpdate => Some("UpdateMessage"),
            BodyType::MessageDelete => Some("BaseMessage"),
            BodyType::MessageList => Some("ListMessages"),
            BodyType::MessageAttachment => Some("BaseMessage"),
        }
    }
    /// The schema name of a successful response's payload.
    pub fn response_schema(self) -> &'static str {
        match self {
            BodyType::SessionOpen => "SessionOpened",
            BodyType::UserComplete => "PublicUser",
            BodyType::UserSync => "PrivateKeyUser",
            BodyType::UserGet => "PublicUser",
            BodyType::UserKeys => "KeyHistory",
            BodyType::UserUpdate => "PublicUser",
            BodyType::UserDelete => "Empty",
            BodyType::ConversationCreate => "MessageConversation",
            BodyType::ConversationUpdate => "MessageConversation",
            BodyType::ConversationLeave => "Empty",
            BodyType::ConversationDelete => "Empty",
            BodyType::ConversationGet => "MessageConversation",
            BodyType::ConversationList => "List",
            BodyType::MessageCreate => "Message",
            BodyType::MessageUpdate => "Message",
            BodyType::MessageDelete => "Empty",
            BodyType::MessageList => "MessagePage",
            BodyType::MessageAttachment => "Attachment",
        }
    }
    /// The name of the `Handler` and client method for this type.
    pub fn method_name(self) -> &'static str {
        match self {
            BodyType::SessionOpen => "session_open",
            BodyType::UserComplete => "user_complete",
            BodyType::UserSync => "user_sync",
            BodyType::UserGet => "user_get",
            BodyType::UserKeys => "user_keys",
            BodyType::UserUpdate => "user_update",
            BodyType::UserDelete => "user_delete",
            BodyType::ConversationCreate => "conversation_create",
            BodyType::ConversationUpdate => "conversation_update",
            BodyType::ConversationLeave => "conversation_leave",
            BodyType::ConversationDelete => "conversation_delete",
            BodyType::ConversationGet => "conversation_get",
            BodyType::ConversationList => "conversation_list",
            BodyType::MessageCreate => "message_create",
            BodyType::MessageUpdate => "message_update",
            BodyType::MessageDelete => "message_delete",
            BodyType::MessageList => "message_list",
            BodyType::MessageAttachment => "message_attachment",
        }
    }
}
impl std::fmt::Display for BodyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
/// Why a body type and payload do not make a valid typed body.
#[derive(Debug)]
pub enum DecodeError {
    /// The type is not in the catalogue.
    UnknownType(String),
    /// The type needs a payload and none was sent.
    MissingPayload(&'static str),
    /// The type takes no payload and one was sent.
    UnexpectedPayload(&'static str),
    /// The payload does not match the type's schema.
    BadPayload(&'static str, serde_json::Error),
}
impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownType(t) => write!(f, "unknown body type {t:?}"),
            DecodeError::MissingPayload(t) => write!(f, "{t} needs a payload"),
            DecodeError::UnexpectedPayload(t) => write!(f, "{t} takes no payload"),
            DecodeError::BadPayload(t, e) => {
                write!(f, "{t} payload does not match its schema: {e}")
            }
        }
    }
}
impl std::error::Error for DecodeError {}
fn decode_payload<T: serde::de::DeserializeOwned>(
    body_type: &'static str,
    payload: Option<serde_json::Value>,
) -> Result<T, DecodeError> {
    let payload = payload.ok_or(DecodeError::MissingPayload(body_type))?;
    serde_json::from_value(payload).map_err(|e| DecodeError::BadPayload(body_type, e))
}
fn expect_no_payload(
    body_type: &'static str,
    payload: Option<serde_json::Value>,
) -> Result<(), DecodeError> {
    match payload {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(serde_json::Value::Object(map)) if map.is_empty() => Ok(()),
        Some(_) => Err(DecodeError::UnexpectedPayload(body_type)),
    }
}
/// A request with its typed payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `session.open`
    SessionOpen,
    /// `user.complete`
    UserComplete(crate::models::CompleteUser),
    /// `user.sync`
    UserSync(crate::models::SyncUser),
    /// `user.get`
    UserGet(crate::models::BaseUser),
    /// `user.keys`
    UserKeys(crate::models::BaseUser),
    /// `user.update`
    UserUpdate(crate::models::UpdateUser),
    /// `user.delete`
    UserDelete,
    /// `conversation.create`
    ConversationCreate(crate::models::CreateConversation),
    /// `conversation.update`
    ConversationUpdate(crate::models::Conversation),
    /// `conversation.leave`
    ConversationLeave(crate::models::BaseConversation),
    /// `conversation.delete`
    ConversationDelete(crate::models::BaseConversation),
    /// `conversation.get`
    ConversationGet(crate::models::BaseConversation),
    /// `conversation.list`
    ConversationList,
    /// `message.create`
    MessageCreate(crate::models::CreateMessage),
    /// `message.update`
    MessageUpdate(crate::models::UpdateMessage),
    /// `message.delete`
    MessageDelete(crate::models::BaseMessage),
    /// `message.list`
    MessageList(crate::models::ListMessages),
    /// `message.attachment`
    MessageAttachment(crate::models::BaseMessage),
}
impl Request {
    /// The request's body type.
    pub fn body_type(&self) -> BodyType {
        match self {
            Request::SessionOpen => BodyType::SessionOpen,
            Request::UserComplete(_) => BodyType::UserComplete,
            Request::UserSync(_) => BodyType::UserSync,
            Request::UserGet(_) => BodyType::UserGet,
            Request::UserKeys(_) => BodyType::UserKeys,
            Request::UserUpdate(_) => BodyType::UserUpdate,
            Request::UserDelete => BodyType::UserDelete,
            Request::ConversationCreate(_) => BodyType::ConversationCreate,
            Request::ConversationUpdate(_) => BodyType::ConversationUpdate,
            Request::ConversationLeave(_) => BodyType::ConversationLeave,
            Request::ConversationDelete(_) => BodyType::ConversationDelete,
            Request::ConversationGet(_) => BodyType::ConversationGet,
            Request::ConversationList => BodyType::ConversationList,
            Request::MessageCreate(_) => BodyType::MessageCreate,
            Request::MessageUpdate(_) => BodyType::MessageUpdate,
            Request::MessageDelete(_) => BodyType::MessageDelete,
            Request::MessageList(_) => BodyType::MessageList,
            Request::MessageAttachment(_) => BodyType::MessageAttachment,
        }
    }
    /// Builds a typed request from a Body's `type` and `payload`.
    pub fn from_parts(
        body_type: &str,
        payload: Option<serde_json::Value>,
    ) -> Result<Request, DecodeError> {
        let body_type = BodyType::from_name(body_type)
            .ok_or_else(|| DecodeError::UnknownType(body_type.to_owned()))?;
        Ok(
            match body_type {
                BodyType::SessionOpen => {
                    expect_no_payload(body_type.as_str(), payload)?;
                    Request::SessionOpen
                }
                BodyType::UserComplete => {
                    Request::UserComplete(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::UserSync => {
                    Request::UserSync(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::UserGet => {
                    Request::UserGet(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::UserKeys => {
                    Request::UserKeys(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::UserUpdate => {
                    Request::UserUpdate(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::UserDelete => {
                    expect_no_payload(body_type.as_str(), payload)?;
                    Request::UserDelete
                }
                BodyType::ConversationCreate => {
                    Request::ConversationCreate(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
                BodyType::ConversationUpdate => {
                    Request::ConversationUpdate(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
                BodyType::ConversationLeave => {
                    Request::ConversationLeave(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
                BodyType::ConversationDelete => {
                    Request::ConversationDelete(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
                BodyType::ConversationGet => {
                    Request::ConversationGet(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
                BodyType::ConversationList => {
                    expect_no_payload(body_type.as_str(), payload)?;
                    Request::ConversationList
                }
                BodyType::MessageCreate => {
                    Request::MessageCreate(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::MessageUpdate => {
                    Request::MessageUpdate(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::MessageDelete => {
                    Request::MessageDelete(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::MessageList => {
                    Request::MessageList(decode_payload(body_type.as_str(), payload)?)
                }
                BodyType::MessageAttachment => {
                    Request::MessageAttachment(
                        decode_payload(body_type.as_str(), payload)?,
                    )
                }
            },
        )
    }
    /// The payload as JSON for a Body, `None` for types without payload.
    pub fn payload_json(&self) -> Result<Option<serde_json::Value>, serde_json::Error> {
        Ok(
            match self {
                Request::SessionOpen => None,
                Request::UserComplete(p) => Some(serde_json::to_value(p)?),
                Request::UserSync(p) => Some(serde_json::to_value(p)?),
                Request::UserGet(p) => Some(serde_json::to_value(p)?),
                Request::UserKeys(p) => Some(serde_json::to_value(p)?),
                Request::UserUpdate(p) => Some(serde_json::to_value(p)?),
                Request::UserDelete => None,
                Request::ConversationCreate(p) => Some(serde_json::to_value(p)?),
                Request::ConversationUpdate(p) => Some(serde_json::to_value(p)?),
                Request::ConversationLeave(p) => Some(serde_json::to_value(p)?),
                Request::ConversationDelete(p) => Some(serde_json::to_value(p)?),
                Request::ConversationGet(p) => Some(serde_json::to_value(p)?),
                Request::ConversationList => None,
                Request::MessageCreate(p) => Some(serde_json::to_value(p)?),
                Request::MessageUpdate(p) => Some(serde_json::to_value(p)?),
                Request::MessageDelete(p) => Some(serde_json::to_value(p)?),
                Request::MessageList(p) => Some(serde_json::to_value(p)?),
                Request::MessageAttachment(p) => Some(serde_json::to_value(p)?),
            },
        )
    }
}
/// A successful response with its typed payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// The response to `session.open`
    SessionOpen(crate::models::SessionOpened),
    /// The response to `user.complete`
    UserComplete(crate::models::PublicUser),
    /// The response to `user.sync`
    UserSync(crate::models::PrivateKeyUser),
    /// The response to `user.get`
    UserGet(crate::models::PublicUser),
    /// The response to `user.keys`
    UserKeys(crate::models::KeyHistory),
    /// The response to `user.update`
    UserUpdate(crate::models::PublicUser),
    /// The response to `user.delete`
    UserDelete(crate::models::Empty),
    /// The response to `conversation.create`
    ConversationCreate(crate::models::MessageConversation),
    /// The response to `conversation.update`
    ConversationUpdate(crate::models::MessageConversation),
    /// The response to `conversation.leave`
    ConversationLeave(crate::models::Empty),
    /// The response to `conversation.delete`
    ConversationDelete(crate::models::Empty),
    /// The response to `conversation.get`
    ConversationGet(crate::models::MessageConversation),
    /// The response to `conversation.list`
    ConversationList(crate::models::List),
    /// The response to `message.create`
    MessageCreate(crate::models::Message),
    /// The response to `message.update`
    MessageUpdate(crate::models::Message),
    /// The response to `message.delete`
    MessageDelete(crate::models::Empty),
    /// The response to `message.list`
    MessageList(crate::models::MessagePage),
    /// The response to `message.attachment`
    MessageAttachment(crate::models::Attachment),
}
impl Response {
    /// The body type this responds to.
    pub fn body_type(&self) -> BodyType {
        match self {
            Response::SessionOpen(_) => BodyType::SessionOpen,
            Response::UserComplete(_) => BodyType::UserComplete,
            Response::UserSync(_) => BodyType::UserSync,
            Response::UserGet(_) => BodyType::UserGet,
            Response::UserKeys(_) => BodyType::UserKeys,
            Response::UserUpdate(_) => BodyType::UserUpdate,
            Response::UserDelete(_) => BodyType::UserDelete,
            Response::ConversationCreate(_) => BodyType::ConversationCreate,
            Response::ConversationUpdate(_) => BodyType::ConversationUpdate,
            Response::ConversationLeave(_) => BodyType::ConversationLeave,
            Response::ConversationDelete(_) => BodyType::ConversationDelete,
            Response::ConversationGet(_) => BodyType::ConversationGet,
            Response::ConversationList(_) => BodyType::ConversationList,
            Response::MessageCreate(_) => BodyType::MessageCreate,
            Response::MessageUpdate(_) => BodyType::MessageUpdate,
            Response::MessageDelete(_) => BodyType::MessageDelete,
            Response::MessageList(_) => BodyType::MessageList,
            Response::MessageAttachment(_) => BodyType::MessageAttachment,
        }
    }
    /// The payload as JSON for a response Body.
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Response::SessionOpen(p) => serde_json::to_value(p),
            Response::UserComplete(p) => serde_json::to_value(p),
            Response::UserSync(p) => serde_json::to_value(p),
            Response::UserGet(p) => serde_json::to_value(p),
            Response::UserKeys(p) => serde_json::to_value(p),
            Response::UserUpdate(p) => serde_json::to_value(p),
            Response::UserDelete(p) => serde_json::to_value(p),
            Response::ConversationCreate(p) => serde_json::to_value(p),
            Response::ConversationUpdate(p) => serde_json::to_value(p),
            Response::ConversationLeave(p) => serde_json::to_value(p),
            Response::ConversationDelete(p) => serde_json::to_value(p),
            Response::ConversationGet(p) => serde_json::to_value(p),
            Response::ConversationList(p) => serde_json::to_value(p),
            Response::MessageCreate(p) => serde_json::to_value(p),
            Response::MessageUpdate(p) => serde_json::to_value(p),
            Response::MessageDelete(p) => serde_json::to_value(p),
            Response::MessageList(p) => serde_json::to_value(p),
            Response::MessageAttachment(p) => serde_json::to_value(p),
        }
    }
    /// Decodes a response payload for a request of `body_type`.
    pub fn from_parts(
        body_type: BodyType,
        payload: serde_json::Value,
    ) -> Result<Response, DecodeError> {
        Ok(
            match body_type {
                BodyType::SessionOpen => {
                    Response::SessionOpen(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::UserComplete => {
                    Response::UserComplete(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::UserSync => {
                    Response::UserSync(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::UserGet => {
                    Response::UserGet(decode_payload(body_type.as_str(), Some(payload))?)
                }
                BodyType::UserKeys => {
                    Response::UserKeys(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::UserUpdate => {
                    Response::UserUpdate(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::UserDelete => {
                    Response::UserDelete(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationCreate => {
                    Response::ConversationCreate(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationUpdate => {
                    Response::ConversationUpdate(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationLeave => {
                    Response::ConversationLeave(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationDelete => {
                    Response::ConversationDelete(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationGet => {
                    Response::ConversationGet(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::ConversationList => {
                    Response::ConversationList(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::MessageCreate => {
                    Response::MessageCreate(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::MessageUpdate => {
                    Response::MessageUpdate(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::MessageDelete => {
                    Response::MessageDelete(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::MessageList => {
                    Response::MessageList(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
                BodyType::MessageAttachment => {
                    Response::MessageAttachment(
                        decode_payload(body_type.as_str(), Some(payload))?,
                    )
                }
            },
        )
    }
}
/// Every event type pushed over the WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `event.message.created`: A message was posted in a conversation the socket's user is a member of.
    MessageCreated,
    /// `event.message.updated`: A message was edited.
    MessageUpdated,
    /// `event.message.deleted`: A message was deleted.
    MessageDeleted,
    /// `event.conversation.created`: The socket's user was made a member of a new conversation (the name, if any, with the key wrapped for this user).
    ConversationCreated,
    /// `event.conversation.updated`: A conversation's name or members changed (also sent to a member who was added). The name carries the key wrapped for this user. Carries no messages; fetch them with conversation.get.
    ConversationUpdated,
    /// `event.conversation.deleted`: A conversation was deleted (by its owner with conversation.delete, or by its last member leaving); its members can no longer read it. Never sent for a removal (event.conversation.removed).
    ConversationDeleted,
    /// `event.conversation.removed`: The socket's user was removed from the conversation by its owner (conversation.update with a member list without them); they can no longer read it. The conversation goes on for its remaining members, who get event.conversation.updated.
    ConversationRemoved,
    /// `event.conversation.left`: A member left a conversation (or was deleted).
    ConversationLeft,
    /// `event.user.key_changed`: A member of a shared conversation (or the socket's own user) changed their public key. Clients check the new key through the key history (user.keys) from the key they pinned; a rotation continues the chain and is followed without a warning; a chain start (after an operator reset) is an unexplained change that clients warn about loudly.
    UserKeyChanged,
}
impl EventType {
    /// Every event type, in catalogue order.
    pub const ALL: &'static [EventType] = &[
        EventType::MessageCreated,
        EventType::MessageUpdated,
        EventType::MessageDeleted,
        EventType::ConversationCreated,
        EventType::ConversationUpdated,
        EventType::ConversationDeleted,
        EventType::ConversationRemoved,
        EventType::ConversationLeft,
        EventType::UserKeyChanged,
    ];
    /// The wire name, for example `event.message.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageCreated => "event.message.created",
            EventType::MessageUpdated => "event.message.updated",
            EventType::MessageDeleted => "event.message.deleted",
            EventType::ConversationCreated => "event.conversation.created",
            EventType::ConversationUpdated => "event.conversation.updated",
            EventType::ConversationDeleted => "event.conversation.deleted",
            EventType::ConversationRemoved => "event.conversation.removed",
            EventType::ConversationLeft => "event.conversation.left",
            EventType::UserKeyChanged => "event.user.key_changed",
        }
    }
    /// The event type called `name` on the wire, if any.
    pub fn from_name(name: &str) -> Option<EventType> {
        match name {
            "event.message.created" => Some(EventType::MessageCreated),
            "event.message.updated" => Some(EventType::MessageUpdated),
            "event.message.deleted" => Some(EventType::MessageDeleted),
            "event.conversation.created" => Some(EventType::ConversationCreated),
            "event.conversation.updated" => Some(EventType::ConversationUpdated),
            "event.conversation.deleted" => Some(EventType::ConversationDeleted),
            "event.conversation.removed" => Some(EventType::ConversationRemoved),
            "event.conversation.left" => Some(EventType::ConversationLeft),
            "event.user.key_changed" => Some(EventType::UserKeyChanged),
            _ => None,
        }
    }
}
/// An event with its typed payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `event.message.created`: A message was posted in a conversation the socket's user is a member of.
    MessageCreated(crate::models::Message),
    /// `event.message.updated`: A message was edited.
    MessageUpdated(crate::models::Message),
    /// `event.message.deleted`: A message was deleted.
    MessageDeleted(crate::models::BaseMessage),
    /// `event.conversation.created`: The socket's user was made a member of a new conversation (the name, if any, with the key wrapped for this user).
    ConversationCreated(crate::models::MessageConversation),
    /// `event.conversation.updated`: A conversation's name or members changed (also sent to a member who was added). The name carries the key wrapped for this user. Carries no messages; fetch them with conversation.get.
    ConversationUpdated(crate::models::MessageConversation),
    /// `event.conversation.deleted`: A conversation was deleted (by its owner with conversation.delete, or by its last member leaving); its members can no longer read it. Never sent for a removal (event.conversation.removed).
    ConversationDeleted(crate::models::BaseConversation),
    /// `event.conversation.removed`: The socket's user was removed from the conversation by its owner (conversation.update with a member list without them); they can no longer read it. The conversation goes on for its remaining members, who get event.conversation.updated.
    ConversationRemoved(crate::models::BaseConversation),
    /// `event.conversation.left`: A member left a conversation (or was deleted).
    ConversationLeft(crate::models::MemberLeft),
    /// `event.user.key_changed`: A member of a shared conversation (or the socket's own user) changed their public key. Clients check the new key through the key history (user.keys) from the key they pinned; a rotation continues the chain and is followed without a warning; a chain start (after an operator reset) is an unexplained change that clients warn about loudly.
    UserKeyChanged(crate::models::PublicUser),
}
impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::MessageCreated(_) => EventType::MessageCreated,
            Event::MessageUpdated(_) => EventType::MessageUpdated,
            Event::MessageDeleted(_) => EventType::MessageDeleted,
            Event::ConversationCreated(_) => EventType::ConversationCreated,
            Event::ConversationUpdated(_) => EventType::ConversationUpdated,
            Event::ConversationDeleted(_) => EventType::ConversationDeleted,
            Event::ConversationRemoved(_) => EventType::ConversationRemoved,
            Event::ConversationLeft(_) => EventType::ConversationLeft,
            Event::UserKeyChanged(_) => EventType::UserKeyChanged,
        }
    }
    /// The payload as JSON for an event Body.
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Event::MessageCreated(p) => serde_json::to_value(p),
            Event::MessageUpdated(p) => serde_json::to_value(p),
            Event::MessageDeleted(p) => serde_json::to_value(p),
            Event::ConversationCreated(p) => serde_json::to_value(p),
            Event::ConversationUpdated(p) => serde_json::to_value(p),
            Event::ConversationDeleted(p) => serde_json::to_value(p),
            Event::ConversationRemoved(p) => serde_json::to_value(p),
            Event::ConversationLeft(p) => serde_json::to_value(p),
            Event::UserKeyChanged(p) => serde_json::to_value(p),
        }
    }
    /// Builds a typed event from a Body's `type` and `payload`.
    pub fn from_parts(
        event_type: &str,
        payload: Option<serde_json::Value>,
    ) -> Result<Event, DecodeError> {
        let event_type = EventType::from_name(event_type)
            .ok_or_else(|| DecodeError::UnknownType(event_type.to_owned()))?;
        Ok(
            match event_type {
                EventType::MessageCreated => {
                    Event::MessageCreated(decode_payload(event_type.as_str(), payload)?)
                }
                EventType::MessageUpdated => {
                    Event::MessageUpdated(decode_payload(event_type.as_str(), payload)?)
                }
                EventType::MessageDeleted => {
                    Event::MessageDeleted(decode_payload(event_type.as_str(), payload)?)
                }
                EventType::ConversationCreated => {
                    Event::ConversationCreated(
                        decode_payload(event_type.as_str(), payload)?,
                    )
                }
                EventType::ConversationUpdated => {
                    Event::ConversationUpdated(
                        decode_payload(event_type.as_str(), payload)?,
                    )
                }
                EventType::ConversationDeleted => {
                    Event::ConversationDeleted(
                        decode_payload(event_type.as_str(), payload)?,
                    )
                }
                EventType::ConversationRemoved => {
                    Event::ConversationRemoved(
                        decode_payload(event_type.as_str(), payload)?,
                    )
                }
                EventType::ConversationLeft => {
                    Event::ConversationLeft(
                        decode_payload(event_type.as_str(), payload)?,
                    )
                }
                EventType::UserKeyChanged => {
                    Event::UserKeyChanged(decode_payload(event_type.as_str(), payload)?)
                }
            },
        )
    }
}
