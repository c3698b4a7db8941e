// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.

use crate::bodies::{Request, Response};
/// `info.title` of api.yml.
pub const API_TITLE: &str = "NanoChat";
/// `info.version` of api.yml.
pub const API_VERSION: &str = "1.0.0";
/// `info.description` of api.yml, served with the spec.
pub const API_DESCRIPTION: &str = "NanoChat protocol v1: a self-hosted, end-to-end encrypted chat.\n\nThis document is the single source of truth for the wire format. The\ntransport is three HTTP paths (`GET /references`, `POST /encrypted`,\n`GET /websocket`) plus `GET /health`; everything a user does travels\ninside an encrypted `Body`, whose catalogue of types is the vendor\nextension `x-nanochat-bodies` (requests) and `x-nanochat-events` (events\npushed over the WebSocket) at the root of this document.\n\n## Primitives (no others)\n\n| purpose | algorithm |\n| --- | --- |\n| key pairs (users, server) | RSA, 3072-bit default; 2048..4096 accepted, anything else rejected; e = 65537 |\n| key wrap | RSA-OAEP, SHA-256, MGF1-SHA-256, empty label |\n| signatures | RSA-PSS, SHA-256, MGF1-SHA-256, salt length 32 |\n| bulk encryption | AES-256-GCM, 96-bit random IV, 128-bit tag appended to the ciphertext |\n| response and event keys | HKDF-SHA-256 |\n| password to key | Argon2id, parameters stored with the ciphertext, never weaker than m=19456 KiB, t=2, p=1 |\n| randomness | the operating system CSPRNG |\n\nBinary values are base64 (RFC 4648 standard alphabet, with padding).\nPublic keys are DER SubjectPublicKeyInfo, private keys DER PKCS#8. A key\nfingerprint is SHA-256 of the SubjectPublicKeyInfo DER, written as 16\ngroups of 4 lowercase hex digits separated by spaces.\n\n## Request envelope (`EncryptedRequest`)\n\n1. Draw a fresh 32-byte key `K` and a 12-byte `iv`.\n2. `data = AES-256-GCM(K, iv, plaintext = UTF-8 JSON of a Body, aad = empty)`.\n3. `key = RSA-OAEP(server public key from /references, K)`.\n4. `signature = RSA-PSS(user private key, key || iv || data)`: the raw\n   bytes concatenated (encrypt-then-sign). Every request type is signed\n   except `user.sync`; `user.complete` is signed with the private key\n   matching the public key it carries (proof of possession).\n5. Send `{version: 1, key, iv, data, signature}`.\n\nThe server rate-limits the peer address, unwraps `K`, decrypts, parses\nthe `Body`, checks the freshness of `created_at`, the Body's shape and\nthe username's form, looks the user up and verifies the signature,\nrecords the `request_id` (replay guard), and only then acts. An envelope\nthat cannot be opened gets a plain `Error` (HTTP 400/401/413/429, or 500\nwhen the server fails before it can encrypt); once `K` is known every\nanswer, errors included, is encrypted and sent with HTTP 200 so the\nstatus line tells an observer nothing. Besides the codes each body type\nlists in `x-nanochat-bodies`, any request may get the pipeline's codes:\n`bad_request`, `unknown_type`, `stale`, `replayed`, `unknown_user`,\n`bad_signature` and `internal`. `unknown_user` comes only from the\nsignature check, so the unsigned `user.sync` never gets it (it answers\n`wrong_password` for an unknown or pending user, against probing), and\n`user.complete`, checked against the key it carries, gets\n`invalid_token` instead.\n\n## The Body\n\nA request's plaintext is one JSON object, the `Body`: `type`,\n`created_at`, `request_id`, `username` and, where the type has one,\n`payload`.\n- `created_at` is an RFC 3339 date-time string such as\n  `2026-11-25T09:00:00Z`. Senders write UTC; a receiver reads any offset\n  as the instant it names. A request whose `created_at` is missing, or\n  is not such a string, gets `bad_request` (before freshness is\n  checked); a well-formed one outside the window gets `stale`.\n- Closed objects: the `Body` and every object a request carries (each\n  payload schema and the objects inside it) accept only the fields\n  their schema lists (`additionalProperties: false`). A request with any\n  other field, at any depth and of any size, gets `bad_request`; these\n  schemas are closed wherever they appear, in responses and events too.\n  The schemas that only servers send (responses and events) are open: a\n  v1 server sends only the fields listed, and clients ignore fields they\n  do not know.\n- No payload: the types whose `payload` is `null` in\n  `x-nanochat-bodies` (`session.open`, `user.delete`,\n  `conversation.list`) take none. The request omits `payload`, or sends\n  `null` or `{}`; the three mean the same. Any other value (an object\n  with a field, an array, a string) gets `bad_request`. Every response\n  type has a schema, so a successful response always carries a\n  `payload` object (`Empty` is `{}`) and no `error`; a refused one\n  carries `error` and no `payload`.\n- UUIDs (`request_id`, conversation and message ids) are written in the\n  lowercase hyphenated form, 8-4-4-4-12 lowercase hex digits (36\n  characters), which is also the form the canonical message and name\n  bytes sign. Any other spelling of a UUID in a request (uppercase,\n  braces, no hyphens, `urn:uuid:`) gets `bad_request`, so the id a\n  client signs is always the string it sends. Servers write the same\n  form.\n- A Body the server cannot read at all (not a JSON object, a missing or\n  malformed `created_at`, a field of the wrong type) gets `bad_request`\n  in a response with an empty `type` and no `request_id`, since the\n  server could not read them; it still decrypts under `K_resp`, which\n  is what makes it the answer to this request.\n\n## Response (`EncryptedBody` without `key`)\n\n`K_resp = HKDF-SHA-256(ikm = K, salt = request iv, info = \"nanochat/v1 response\")`\n(32 bytes). The response is `{version: 1, iv, data}` with a fresh `iv` and\n`data = AES-256-GCM(K_resp, iv, JSON of the response Body, aad = empty)`.\nOnly the holder of the server private key can derive `K_resp`, so a\nresponse that decrypts is authentic. The client rejects a response whose\n`request_id` does not echo its request or whose `created_at` is outside\nthe freshness window.\n\n## Freshness and replay\n\nThe server rejects a request whose `created_at` is more than\n`freshness_window_seconds` (default 300, announced by `/references`)\naway from its clock (`stale`), and a `request_id` it has already accepted\nfrom the same user within the window (`replayed`), also across restarts.\n\n## WebSocket (`GET /websocket`)\n\nText frames carry the same `EncryptedBody` JSON as `POST /encrypted`.\nEach request frame gets exactly one response frame, encrypted under that\nrequest's `K_resp`. The first request must be a signed `session.open`,\nsent within one ping interval (30 s) of the upgrade;\nany other first request gets a plain `Error` frame with code\n`session_required`, a first frame that is not an `EncryptedBody` gets a\nplain `bad_envelope`, a `session.open` that is refused gets its\nencrypted error, and in all three cases the socket is then closed.\n`session_required` is only ever that plain answer to a first frame. A\n`session.open` anywhere else, over `POST /encrypted` or as a later frame\nof a socket whose session is open, gets an encrypted `bad_request` and\nchanges nothing: the socket stays open with its first session. A\nsession ends (the socket closes) when its user's key changes or the user\nis reset or deleted; a change the operator makes outside the serving\nprocess may take the server up to a second to notice, for sessions and\nfor the signature check alike. Its `K` and `iv` give\n`K_events = HKDF-SHA-256(ikm = K, salt = iv, info = \"nanochat/v1 events\")`.\nEvents are `EncryptedBody` frames `{version: 1, seq, iv, data}` where\n`data = AES-256-GCM(K_events, iv, JSON of the event Body, aad = \"nanochat/v1 event\" || seq as 8-byte big-endian)`.\n`seq` starts at 1 and strictly increases per socket; the client rejects\na frame whose `seq` does not increase or whose Body `created_at` is out\nof the window. The server pings every 30 s; a socket whose outgoing queue\nis full (a slow reader) is closed rather than allowed to delay others\n(close code 1013, try again later). A frame larger than\n`limits.max_body_bytes` closes the socket with close code 1009 (message\ntoo big).\n\n## Message content (end to end)\n\n1. The sender draws a content key `C` (32 bytes), and encrypts the UTF-8\n   JSON `{\"text\": ..., \"file_name\": ..., \"file_type\": ...}` (absent fields\n   omitted) as `content` under a fresh `content_iv`, and the file bytes,\n   if any, as `attachment.data` under its own `attachment.iv`, both with\n   AES-256-GCM under `C` and empty AAD.\n2. For every current member, the sender included, `C` is wrapped with\n   RSA-OAEP under that member's public key: `keys[]`.\n3. The sender signs with RSA-PSS the canonical message bytes below.\n4. The server refuses a message whose `keys` do not name exactly the\n   current members (`members_mismatch`), stores ciphertext only, and\n   returns each reader only the wrapped key addressed to them plus the\n   digests of all wrapped keys (`recipients`), so the reader can verify\n   the signature without the other members' wrapped keys.\n\nCanonical message bytes: each field is a 4-byte big-endian length\nfollowed by the bytes, in this order:\n1. ASCII `nanochat/v1 message`\n2. conversation id, lowercase hyphenated UUID, ASCII\n3. message id, same form\n4. content iv (12 bytes)\n5. content ciphertext (including its tag)\n6. SHA-256 of the attachment ciphertext (32 bytes), or an empty field\n   (length 0) when there is no attachment\nthen the recipient count as a 4-byte big-endian integer, then for each\nrecipient sorted by username bytes ascending: the username (UTF-8,\nlength-prefixed) and SHA-256 of its wrapped key (length-prefixed, 32\nbytes). Usernames must be unique.\n\n## Conversation names (end to end)\n\nThe server never sees a conversation name. A name is sealed like message\ncontent, by the member who sets it (the sealer):\n1. Draw a name key `N` (32 bytes) and a 12-byte `iv`; `ciphertext =\n   AES-256-GCM(N, iv, UTF-8 name, aad = empty)`. A name is 1 to 128\n   Unicode characters, without control characters or leading or\n   trailing whitespace; readers refuse any other plaintext.\n2. Wrap `N` with RSA-OAEP for every current member that has a public key,\n   the sealer included: `keys[]`.\n3. Sign with RSA-PSS the canonical name bytes below.\n\nCanonical name bytes: each field is a 4-byte big-endian length followed\nby the bytes, in this order:\n1. ASCII `nanochat/v1 conversation name`\n2. conversation id, lowercase hyphenated UUID, ASCII\n3. revision, 8-byte big-endian unsigned integer\n4. iv (12 bytes)\n5. ciphertext (including its tag)\nthen the recipient count and the sorted recipients exactly as for\nmessages: for each, the username and SHA-256 of its wrapped key.\n\nThe client chooses the conversation id at `conversation.create` (a fresh\nrandom UUID; `conflict` if taken), so the id is signed from the start\nand a server cannot move a name to another conversation.\n\nRevisions: every conversation has a `name_revision`, 0 at creation\nbefore any name. Every name change (set, re-seal, removal) increments\nit by exactly one, and a sealed name must carry `revision =\nname_revision + 1` (1 in `conversation.create`), else `conflict`. The\nrevision is signed, so a reader who remembers the highest revision it\nhas seen can detect a server that serves an older name.\n\nThe server checks that `keys` name exactly the current members that have\na key (`members_mismatch`; after a member change, the new member list)\nand that the signature verifies with the sealer's (the caller's) key\n(`bad_signature`), then stores the name as it is. A reader gets the\nsealed name (`ConversationName`) with only the key wrapped for them plus\nthe signed digests, and checks, in this order: its own entry in the\nsigned list and the digest of the key it got; the sealer's signature\n(with the sealer's key from the member list); then unwraps, decrypts and\nchecks the name rules.\n\nMember changes: a `conversation.update` that changes the members of a\nnamed conversation must carry the name re-sealed for the new member list\n(or remove the name), else `members_mismatch`, so added members can read\nit. A leave, a removal or a deletion needs nothing: the server forgets\nthe leaver's wrapped key, and any later name is sealed to the members of\nthat time only.\n\nRe-sealing: a member whose key changed (rotation, operator reset)\ncannot unwrap the name key wrapped for their old key, and a name whose\nsealer's key changed no longer verifies. The server marks such a name\n`reseal: true` (some current member with a key has no key wrapped for\nthat key, or the sealer has left or changed key). A member whose client\ncan read and verify the name re-seals the unchanged name for the current\nkeys with `conversation.update` (`name` only, `revision + 1`) when it\nsees `reseal` on a fetched or pushed conversation, which it does after\n`event.user.key_changed` (re-fetch the shared named conversations).\nConcurrent re-seals resolve by the revision: the first one applied wins,\nthe others get `conflict`, re-fetch, and find `reseal: false`. A rename\nracing a re-seal resolves the same way: whoever loses re-fetches and\ndecides again, so a re-seal never resurrects an older name.\n\nKey rotation proof (`UpdateUser.public_key_signature`): RSA-PSS by the new\nprivate key over three fields, each a 4-byte big-endian length followed\nby the bytes, as in the canonical message bytes: ASCII `nanochat/v1 key\nrotation` (24 bytes), the username (UTF-8, as in the Body) and the new\npublic key (SPKI DER, the exact bytes of `public_key`). For `alice` the\nbytes start `00 00 00 18 \"nanochat/v1 key rotation\" 00 00 00 05\n\"alice\"`, then the SPKI's length and bytes. A proof that does not verify\ngets `bad_signature`.\n\n## Password-encrypted private keys\n\n`EncryptedPrivateKey`: `key = Argon2id(password, salt, m_cost, t_cost,\np_cost, 32 bytes)`, `ciphertext = AES-256-GCM(key, iv, PKCS#8 DER, aad =\n\"nanochat/v1 private-key\")`. Argon2id is version 0x13 (19, RFC 9106)\nwith no secret and no associated data, and its output is 32 bytes. The\nblob stores no Argon2 version: format `version: 1` fixes 0x13, and any\nother Argon2 version would be a new format version. The password is its\nUTF-8 bytes. The server stores the blob as it is; it never sees the\npassword. The sync password is stored as an Argon2id PHC string.\n\n## Not provided by v1\n\nForward secrecy, hiding the social graph (who talks to whom, when) from\nthe server itself, and multi-device sessions beyond using the same key on\nseveral devices.\n";
/// Every answer of `get_references` that api.yml lists.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum GetReferencesResponse {
    /// The server's references.
    #[oai(status = 200u16)]
    Ok(poem_openapi::payload::Json<crate::models::References>),
}
/// Every answer of `post_encrypted` that api.yml lists.
#[derive(Debug, poem_openapi::ApiResponse)]
#[oai(bad_request_handler = "bad_request_post_encrypted")]
pub enum PostEncryptedResponse {
    /// The encrypted response Body (success or an encrypted Error).
    #[oai(status = 200u16)]
    Ok(poem_openapi::payload::Json<crate::models::EncryptedBody>),
    /// The envelope is malformed: not JSON, bad base64, missing key, unsupported version (code bad_envelope).
    #[oai(status = 400u16)]
    BadRequest(poem_openapi::payload::Json<crate::models::Error>),
    /// The envelope cannot be opened: the key does not unwrap under the server key or the data does not decrypt (code undecryptable). Fetch /references again.
    #[oai(status = 401u16)]
    Unauthorized(poem_openapi::payload::Json<crate::models::Error>),
    /// The request is larger than limits.max_body_bytes (code too_large).
    #[oai(status = 413u16)]
    PayloadTooLarge(poem_openapi::payload::Json<crate::models::Error>),
    /// Too many requests from this peer address (code rate_limited). Nothing was read or done; the same envelope may be sent again later. Envelopes that cost the server RSA work and then fail to authenticate may count for more than one against the address's budget. The server may hold this answer (1 s by default) before sending it, and sends `Retry-After` in seconds; when too many refusals are held at once it answers at once and closes the connection.
    #[oai(status = 429u16)]
    TooManyRequests(poem_openapi::payload::Json<crate::models::Error>),
    /// The server failed before it could encrypt an answer (code internal), for example while unwrapping the key or sealing the response. Whether the request took effect is unknown; a retry with a fresh request_id may repeat it.
    #[oai(status = 500u16)]
    InternalServerError(poem_openapi::payload::Json<crate::models::Error>),
}
/// Unparseable requests get the spec's Error body, not plain text.
fn bad_request_post_encrypted(error: poem::Error) -> PostEncryptedResponse {
    PostEncryptedResponse::BadRequest(
        poem_openapi::payload::Json(crate::models::Error::from(error)),
    )
}
/// The answers of `websocket` to a request that is not a WebSocket handshake.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum WebsocketRefusal {
    /// Not a WebSocket handshake (code bad_request); the message names what is missing (`Connection` with `upgrade`, `Upgrade` of `websocket`, `Sec-WebSocket-Version` of 13, `Sec-WebSocket-Key`).
    #[oai(status = 400u16)]
    BadRequest(poem_openapi::payload::Json<crate::models::Error>),
}
/// Every answer of `websocket` that api.yml lists: the upgrade or a refusal.
pub enum WebsocketResponse {
    /// Switching protocols to a WebSocket.
    Upgraded(poem::web::websocket::BoxWebSocketUpgraded),
    /// Not a WebSocket handshake.
    Refused(WebsocketRefusal),
}
impl poem::IntoResponse for WebsocketResponse {
    fn into_response(self) -> poem::Response {
        match self {
            WebsocketResponse::Upgraded(upgraded) => upgraded.into_response(),
            WebsocketResponse::Refused(refusal) => refusal.into_response(),
        }
    }
}
impl poem_openapi::ApiResponse for WebsocketResponse {
    fn meta() -> poem_openapi::registry::MetaResponses {
        let mut responses = <poem::web::websocket::BoxWebSocketUpgraded as poem_openapi::ApiResponse>::meta()
            .responses;
        responses
            .extend(<WebsocketRefusal as poem_openapi::ApiResponse>::meta().responses);
        poem_openapi::registry::MetaResponses {
            responses,
        }
    }
    fn register(registry: &mut poem_openapi::registry::Registry) {
        <WebsocketRefusal as poem_openapi::ApiResponse>::register(registry);
    }
}
/// Every answer of `get_health` that api.yml lists.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum GetHealthResponse {
    /// The server is up and its database answers.
    #[oai(status = 200u16)]
    Ok(poem_openapi::payload::Json<crate::models::Health>),
    /// The database does not answer (code unavailable).
    #[oai(status = 503u16)]
    ServiceUnavailable(poem_openapi::payload::Json<crate::models::Error>),
}
/// The transport operations of api.yml: what the server does with
/// each HTTP request before any body is decrypted.
pub trait Transport: Send + Sync + 'static {
    /// The client's address for a request: the TCP peer by default;
    /// override it to believe a trusted reverse proxy's headers.
    fn client_addr(&self, request: &poem::Request) -> Option<std::net::SocketAddr> {
        request.remote_addr().as_socket_addr().copied()
    }
    /// The server public key, protocol version, clock, freshness window and limits.
    fn get_references(
        &self,
        peer: Option<std::net::SocketAddr>,
    ) -> impl std::future::Future<Output = GetReferencesResponse> + Send;
    /// Send one encrypted request Body and receive the encrypted response Body.
    fn post_encrypted(
        &self,
        peer: Option<std::net::SocketAddr>,
        body: crate::models::EncryptedRequest,
    ) -> impl std::future::Future<Output = PostEncryptedResponse> + Send;
    /// Upgrade to a WebSocket carrying EncryptedBody text frames and encrypted events.
    fn websocket(
        &self,
        peer: Option<std::net::SocketAddr>,
        ws: poem::web::websocket::WebSocket,
    ) -> poem::web::websocket::BoxWebSocketUpgraded;
    /// The answer of `websocket` when poem refuses the upgrade (`error`): the request is not a WebSocket handshake.
    fn websocket_refused(
        &self,
        peer: Option<std::net::SocketAddr>,
        error: poem::Error,
    ) -> WebsocketRefusal;
    /// Liveness and readiness probe.
    fn get_health(
        &self,
        peer: Option<std::net::SocketAddr>,
    ) -> impl std::future::Future<Output = GetHealthResponse> + Send;
}
/// The poem-openapi service: one endpoint per operation, each
/// delegating to the [`Transport`].
pub struct Api<T>(pub std::sync::Arc<T>);
#[poem_openapi::OpenApi]
impl<T: Transport> Api<T> {
    /// The server public key, protocol version, clock, freshness window and limits.
    #[oai(path = "/references", method = "get", operation_id = "get_references")]
    async fn get_references(&self, request: &poem::Request) -> GetReferencesResponse {
        self.0.get_references(self.0.client_addr(request)).await
    }
    /// Send one encrypted request Body and receive the encrypted response Body.
    #[oai(path = "/encrypted", method = "post", operation_id = "post_encrypted")]
    async fn post_encrypted(
        &self,
        request: &poem::Request,
        body: poem_openapi::payload::Json<crate::models::EncryptedRequest>,
    ) -> PostEncryptedResponse {
        self.0.post_encrypted(self.0.client_addr(request), body.0).await
    }
    /// Upgrade to a WebSocket carrying EncryptedBody text frames and encrypted events.
    #[oai(path = "/websocket", method = "get", operation_id = "websocket")]
    async fn websocket(&self, request: &poem::Request) -> WebsocketResponse {
        let peer = self.0.client_addr(request);
        match <poem::web::websocket::WebSocket as poem::FromRequest>::from_request_without_body(
                request,
            )
            .await
        {
            Ok(ws) => WebsocketResponse::Upgraded(self.0.websocket(peer, ws)),
            Err(error) => {
                WebsocketResponse::Refused(self.0.websocket_refused(peer, error))
            }
        }
    }
    /// Liveness and readiness probe.
    #[oai(path = "/health", method = "get", operation_id = "get_health")]
    async fn get_health(&self, request: &poem::Request) -> GetHealthResponse {
        self.0.get_health(self.0.client_addr(request)).await
    }
}
/// What the handlers of every area share. Each area trait has one
/// method per body type, called with the authenticated caller once
/// the envelope has been opened, checked and its signature verified.
pub trait HandlerTypes: Send + Sync + 'static {
    /// Who sent the request, as established by the envelope pipeline.
    type Caller: Send + Sync;
    /// The error every method may return; the pipeline turns it into an encrypted Error body.
    type Error: Send;
}
/// The `session.*` body types.
pub trait SessionHandler: HandlerTypes {
    /// `session.open`: Opens an event session on a WebSocket; must be the first frame there. Over POST /encrypted, or as a later frame of a socket whose session is open, it gets bad_request (encrypted) and the socket keeps its session. session_required is the plain answer to any other first frame.
    fn session_open(
        &self,
        caller: &Self::Caller,
    ) -> impl std::future::Future<
        Output = Result<crate::models::SessionOpened, Self::Error>,
    > + Send;
}
/// The `user.*` body types.
pub trait UserHandler: HandlerTypes {
    /// `user.complete`: Completes a user created by the operator, with the one-time complete token; signed with the new private key (proof of possession).
    fn user_complete(
        &self,
        caller: &Self::Caller,
        payload: crate::models::CompleteUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send;
    /// `user.sync`: Fetches the password-encrypted private key stored on the server, for the right sync password. The only unsigned request. An unknown user, a pending user, a user without a stored key and a wrong password all get the same wrong_password (never unknown_user), and each counts as a failed attempt, so the answer does not reveal which usernames exist. After 5 failed attempts for a username within 15 minutes, user.sync answers rate_limited, before the password is checked and even for the right one, until the window has passed (a server may also limit failed attempts per client address).
    fn user_sync(
        &self,
        caller: &Self::Caller,
        payload: crate::models::SyncUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PrivateKeyUser, Self::Error>,
    > + Send;
    /// `user.get`: Looks up a user's display name and public key (to pin it and check its fingerprint).
    fn user_get(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send;
    /// `user.update`: Changes the caller's display name, key pair, server-stored private key or sync password. Members of shared conversations get event.user.key_changed when the public key changes.
    fn user_update(
        &self,
        caller: &Self::Caller,
        payload: crate::models::UpdateUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send;
    /// `user.delete`: Deletes the caller, immediately and irreversibly. The caller leaves every conversation (conversations they own pass to the longest-standing member, and a conversation left without members is deleted) and every message they sent is deleted.
    fn user_delete(
        &self,
        caller: &Self::Caller,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send;
}
/// The `conversation.*` body types.
pub trait ConversationHandler: HandlerTypes {
    /// `conversation.create`: Creates a conversation between the caller (its owner) and one or more other users, with the id the caller chose and optionally a sealed name (revision 1).
    fn conversation_create(
        &self,
        caller: &Self::Caller,
        payload: crate::models::CreateConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send;
    /// `conversation.update`: Sets, re-seals or removes the sealed name (any member) and/or replaces the member list (owner only; the owner stays a member; a named conversation needs its name re-sealed for the new members).
    fn conversation_update(
        &self,
        caller: &Self::Caller,
        payload: crate::models::Conversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send;
    /// `conversation.leave`: The caller leaves the conversation. An owner who leaves passes ownership to the longest-standing member; the last member to leave deletes it.
    fn conversation_leave(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send;
    /// `conversation.delete`: Deletes the conversation and all its messages (owner only).
    fn conversation_delete(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send;
    /// `conversation.get`: One conversation with its members' public keys and the latest page of messages.
    fn conversation_get(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send;
    /// `conversation.list`: Every conversation of the caller, most recently active first, each with its latest message only.
    fn conversation_list(
        &self,
        caller: &Self::Caller,
    ) -> impl std::future::Future<
        Output = Result<crate::models::List, Self::Error>,
    > + Send;
}
/// The `message.*` body types.
pub trait MessageHandler: HandlerTypes {
    /// `message.create`: Posts an end-to-end encrypted message; keys must name exactly the current members.
    fn message_create(
        &self,
        caller: &Self::Caller,
        payload: crate::models::CreateMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Message, Self::Error>,
    > + Send;
    /// `message.update`: Replaces a message's content with a fresh content key (sender only).
    fn message_update(
        &self,
        caller: &Self::Caller,
        payload: crate::models::UpdateMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Message, Self::Error>,
    > + Send;
    /// `message.delete`: Deletes a message (sender only).
    fn message_delete(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send;
    /// `message.list`: A page of a conversation's history, newest first, before an optional opaque cursor (see ListMessages.before for cursors the server did not issue).
    fn message_list(
        &self,
        caller: &Self::Caller,
        payload: crate::models::ListMessages,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessagePage, Self::Error>,
    > + Send;
    /// `message.attachment`: Downloads one message's encrypted attachment; lists never inline attachment bytes.
    fn message_attachment(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Attachment, Self::Error>,
    > + Send;
}
/// Every area's handler: what [`dispatch`] needs. Implemented for
/// any type that implements all the area traits.
pub trait Handler: SessionHandler + UserHandler + ConversationHandler + MessageHandler {}
impl<T: SessionHandler + UserHandler + ConversationHandler + MessageHandler> Handler
for T {}
/// Routes a typed request to its [`Handler`] method.
pub async fn dispatch<H: Handler>(
    handler: &H,
    caller: &H::Caller,
    request: Request,
) -> Result<Response, H::Error> {
    match request {
        Request::SessionOpen => {
            handler.session_open(caller).await.map(Response::SessionOpen)
        }
        Request::UserComplete(payload) => {
            handler.user_complete(caller, payload).await.map(Response::UserComplete)
        }
        Request::UserSync(payload) => {
            handler.user_sync(caller, payload).await.map(Response::UserSync)
        }
        Request::UserGet(payload) => {
            handler.user_get(caller, payload).await.map(Response::UserGet)
        }
        Request::UserUpdate(payload) => {
            handler.user_update(caller, payload).await.map(Response::UserUpdate)
        }
        Request::UserDelete => {
            handler.user_delete(caller).await.map(Response::UserDelete)
        }
        Request::ConversationCreate(payload) => {
            handler
                .conversation_create(caller, payload)
                .await
                .map(Response::ConversationCreate)
        }
        Request::ConversationUpdate(payload) => {
            handler
                .conversation_update(caller, payload)
                .await
                .map(Response::ConversationUpdate)
        }
        Request::ConversationLeave(payload) => {
            handler
                .conversation_leave(caller, payload)
                .await
                .map(Response::ConversationLeave)
        }
        Request::ConversationDelete(payload) => {
            handler
                .conversation_delete(caller, payload)
                .await
                .map(Response::ConversationDelete)
        }
        Request::ConversationGet(payload) => {
            handler
                .conversation_get(caller, payload)
                .await
                .map(Response::ConversationGet)
        }
        Request::ConversationList => {
            handler.conversation_list(caller).await.map(Response::ConversationList)
        }
        Request::MessageCreate(payload) => {
            handler.message_create(caller, payload).await.map(Response::MessageCreate)
        }
        Request::MessageUpdate(payload) => {
            handler.message_update(caller, payload).await.map(Response::MessageUpdate)
        }
        Request::MessageDelete(payload) => {
            handler.message_delete(caller, payload).await.map(Response::MessageDelete)
        }
        Request::MessageList(payload) => {
            handler.message_list(caller, payload).await.map(Response::MessageList)
        }
        Request::MessageAttachment(payload) => {
            handler
                .message_attachment(caller, payload)
                .await
                .map(Response::MessageAttachment)
        }
    }
}
