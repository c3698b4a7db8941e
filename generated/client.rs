// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.

use crate::bodies::Request;
/// progenitor's client for the transport paths of api.yml.
#[allow(missing_docs, unused_imports)]
pub mod http {
    #[allow(unused_imports)]
    pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue};
    #[allow(unused_imports)]
    use progenitor_client::{encode_path, ClientHooks, OperationInfo, RequestBuilderExt};
    /// Types used as operation parameters and responses.
    #[allow(clippy::all)]
    pub mod types {
        /// Error types.
        pub mod error {
            /// Error from a `TryFrom` or `FromStr` implementation.
            pub struct ConversionError(::std::borrow::Cow<'static, str>);
            impl ::std::error::Error for ConversionError {}
            impl ::std::fmt::Display for ConversionError {
                fn fmt(
                    &self,
                    f: &mut ::std::fmt::Formatter<'_>,
                ) -> Result<(), ::std::fmt::Error> {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }
            impl ::std::fmt::Debug for ConversionError {
                fn fmt(
                    &self,
                    f: &mut ::std::fmt::Formatter<'_>,
                ) -> Result<(), ::std::fmt::Error> {
                    ::std::fmt::Debug::fmt(&self.0, f)
                }
            }
            impl From<&'static str> for ConversionError {
                fn from(value: &'static str) -> Self {
                    Self(value.into())
                }
            }
            impl From<String> for ConversionError {
                fn from(value: String) -> Self {
                    Self(value.into())
                }
            }
        }
    }
    #[derive(Clone, Debug)]
    /**Client for NanoChat

NanoChat protocol v1: a self-hosted, end-to-end encrypted chat.

This document is the single source of truth for the wire format. The
transport is three HTTP paths (`GET /references`, `POST /encrypted`,
`GET /websocket`) plus `GET /health`; everything a user does travels
inside an encrypted `Body`, whose catalogue of types is the vendor
extension `x-nanochat-bodies` (requests) and `x-nanochat-events` (events
pushed over the WebSocket) at the root of this document.

## Primitives (no others)

| purpose | algorithm |
| --- | --- |
| key pairs (users, server) | RSA, 3072-bit default; 2048..4096 accepted, anything else rejected; e = 65537 |
| key wrap | RSA-OAEP, SHA-256, MGF1-SHA-256, empty label |
| signatures | RSA-PSS, SHA-256, MGF1-SHA-256, salt length 32 |
| bulk encryption | AES-256-GCM, 96-bit random IV, 128-bit tag appended to the ciphertext |
| response and event keys | HKDF-SHA-256 |
| password to key | Argon2id, parameters stored with the ciphertext, never weaker than m=19456 KiB, t=2, p=1 |
| randomness | the operating system CSPRNG |

Binary values are base64 (RFC 4648 standard alphabet, with padding).
Public keys are DER SubjectPublicKeyInfo, private keys DER PKCS#8. A key
fingerprint is SHA-256 of the SubjectPublicKeyInfo DER, written as 16
groups of 4 lowercase hex digits separated by spaces.

## Request envelope (`EncryptedRequest`)

1. Draw a fresh 32-byte key `K` and a 12-byte `iv`.
2. `data = AES-256-GCM(K, iv, plaintext = UTF-8 JSON of a Body, aad = empty)`.
3. `key = RSA-OAEP(server public key from /references, K)`.
4. `signature = RSA-PSS(user private key, key || iv || data)`: the raw
   bytes concatenated (encrypt-then-sign). Every request type is signed
   except `user.sync`; `user.complete` is signed with the private key
   matching the public key it carries (proof of possession).
5. Send `{version: 1, key, iv, data, signature}`.

The server rate-limits the peer address, unwraps `K`, decrypts, parses
the `Body`, checks the freshness of `created_at`, the Body's shape and
the username's form, looks the user up and verifies the signature,
records the `request_id` (replay guard), and only then acts. A server
may instead record the `request_id` in the same transaction as the
request's change, and after the request when it changes nothing or
fails: either way a request id is accepted once, a replay changes
nothing and tells nobody, and it is answered `replayed` whatever else
it would have been answered. An envelope
that cannot be opened gets a plain `Error` (HTTP 400/401/413/429, or 500
when the server fails before it can encrypt); once `K` is known every
answer, errors included, is encrypted and sent with HTTP 200 so the
status line tells an observer nothing. Besides the codes each body type
lists in `x-nanochat-bodies`, any request may get the pipeline's codes:
`bad_request`, `unknown_type`, `stale`, `replayed`, `unknown_user`,
`bad_signature` and `internal`. `unknown_user` comes only from the
signature check, so the unsigned `user.sync` never gets it (it answers
`wrong_password` for an unknown or pending user, against probing), and
`user.complete`, checked against the key it carries, gets
`invalid_token` instead.

A request body larger than `limits.max_body_bytes` gets a plain 413
(`too_large`) and nothing in it is acted on. So that a client still
sending it reads that answer instead of having its connection reset
under it, the server reads the body to its end and discards it, if it
is at most twice the limit, before it answers; a body announced larger
than that is answered at once, and the connection is then closed.

Check order, where a request breaks more than one rule: the pipeline
steps above in their order, then the type's own checks in the order its
description gives; the first failing check answers. `user.complete`
checks the key it carries against the key policy (`invalid_key`) before
it verifies the signature with that key (`bad_signature`), and the token
(`invalid_token`) after both. `conversation.create` checks the member
count (`too_large`, the caller counted once and duplicates ignored)
before it looks the members up (`not_found`) or checks the sealed name
or the id (`conflict`).

## The Body

A request's plaintext is one JSON object, the `Body`: `type`,
`created_at`, `request_id`, `username` and, where the type has one,
`payload`.
- `created_at` is an RFC 3339 date-time string such as
  `2026-11-25T09:00:00Z`. Senders write UTC; a receiver reads any offset
  as the instant it names. Receivers accept every RFC 3339 section 5.6
  `date-time`: `T` or `t` (or a space) between date and time, any
  number of fractional-second digits or none, and `Z`, `z` or a
  numeric offset `+hh:mm` / `-hh:mm`; senders write `T` and `Z`. A request whose `created_at` is missing, or
  is not such a string, gets `bad_request` (before freshness is
  checked); a well-formed one outside the window gets `stale`.
- Closed objects: the `Body` and every object a request carries (each
  payload schema and the objects inside it) accept only the fields
  their schema lists (`additionalProperties: false`). A request with any
  other field, at any depth and of any size, gets `bad_request`; these
  schemas are closed wherever they appear, in responses and events too.
  The schemas that only servers send (responses and events) are open: a
  v1 server sends only the fields listed, and clients ignore fields they
  do not know.
- No payload: the types whose `payload` is `null` in
  `x-nanochat-bodies` (`session.open`, `user.delete`,
  `conversation.list`) take none. The request omits `payload`, or sends
  `null` or `{}`; the three mean the same. Any other value (an object
  with a field, an array, a string) gets `bad_request`. Every response
  type has a schema, so a successful response always carries a
  `payload` object (`Empty` is `{}`) and no `error`; a refused one
  carries `error` and no `payload`.
- UUIDs (`request_id`, conversation and message ids) are written in the
  lowercase hyphenated form, 8-4-4-4-12 lowercase hex digits (36
  characters), which is also the form the canonical message and name
  bytes sign. Any other spelling of a UUID in a request (uppercase,
  braces, no hyphens, `urn:uuid:`) gets `bad_request`, so the id a
  client signs is always the string it sends. Servers write the same
  form.
- A Body the server cannot read at all (not a JSON object, a missing or
  malformed `created_at`, a field of the wrong type, a `request_id`
  in another spelling than the one above) gets `bad_request`
  in a response with an empty `type` and no `request_id`, since the
  server could not read them; it still decrypts under `K_resp`, which
  is what makes it the answer to this request.

## Response (`EncryptedBody` without `key`)

`K_resp = HKDF-SHA-256(ikm = K, salt = request iv, info = "nanochat/v1 response")`
(32 bytes). The response is `{version: 1, iv, data}` with a fresh `iv` and
`data = AES-256-GCM(K_resp, iv, JSON of the response Body, aad = empty)`.
Only the holder of the server private key can derive `K_resp`, so a
response that decrypts is authentic. The client rejects a response whose
`request_id` does not echo its request or whose `created_at` is outside
the freshness window.

## Freshness and replay

The server rejects a request whose `created_at` is more than
`freshness_window_seconds` (default 300, announced by `/references`)
away from its clock (`stale`), and a `request_id` it has already accepted
from the same user within the window (`replayed`), also across restarts.

## WebSocket (`GET /websocket`)

Text frames carry the same `EncryptedBody` JSON as `POST /encrypted`.
Each request frame gets exactly one response frame, encrypted under that
request's `K_resp`. The first request must be a signed `session.open`,
sent within one ping interval (30 s) of the upgrade;
any other first request gets a plain `Error` frame with code
`session_required`, a first frame that is not an `EncryptedBody` gets a
plain `bad_envelope`, a `session.open` that is refused gets its
encrypted error, and in all three cases the socket is then closed.
`session_required` is only ever that plain answer to a first frame. A
`session.open` anywhere else, over `POST /encrypted` or as a later frame
of a socket whose session is open, gets an encrypted `bad_request` and
changes nothing: the socket stays open with its first session. A
socket whose first frame has not come within the ping interval is
closed without a close frame. Later request frames are authenticated
each by its own signature, like `POST /encrypted`: a frame signed by
another user than the session's is that user's request (answered on
this socket), while the socket's events stay the session user's. The
per-address rate limit applies to every frame: a refused frame gets a
plain `rate_limited` Error frame after the same hold as on HTTP (1 s by
default), nothing in it is acted on, and the socket stays open (a
refused first frame closes it). A
session ends (the socket closes, with the close codes of "Key
history") when its user's key changes or the user is reset or deleted;
a change the operator makes outside the serving process may take the
server up to a second to notice, for sessions and for the signature
check alike. Its `K` and `iv` give
`K_events = HKDF-SHA-256(ikm = K, salt = iv, info = "nanochat/v1 events")`.
Events are `EncryptedBody` frames `{version: 1, seq, iv, data}` where
`data = AES-256-GCM(K_events, iv, JSON of the event Body, aad = "nanochat/v1 event" || seq as 8-byte big-endian)`.
`seq` starts at 1 and strictly increases per socket; the client rejects
a frame whose `seq` does not increase or whose Body `created_at` is out
of the window. The server pings every 30 s, and closes without a close
frame a socket from which nothing (no frame, not even a pong) has come
for three ping intervals, its silence limit; a socket whose outgoing queue
is full (a slow reader) is closed rather than allowed to delay others
(close code 1013, try again later). A frame (or a message of several
frames) larger than `limits.max_body_bytes` closes the socket with
close code 1009 (message too big), and nothing in it is acted on. So
that a client still writing such a frame reads the close frame instead
of having its connection reset under it, the server reads the frame
to its end and discards it, if it is at most twice the limit, before
it sends the close frame; it then waits up to 5 s for the client's
close frame, discarding anything else the client sends, and ends the
connection. The frame must arrive within the socket's silence limit
(three ping intervals) like any other. A frame over twice the limit
is cut off at its header: the server sends the close frame and ends
the connection with the rest unread, which the client may see as a
reset instead of the close frame. Clients keep their frames within
the limit, which `/references` announces.

The event types and what each means are the catalogue
`x-nanochat-events`. A user who loses a conversation learns why: its
deletion is `event.conversation.deleted` (to every member), the
owner removing them from it is `event.conversation.removed` (to them
only; the remaining members get `event.conversation.updated`), and
their own leave (from another socket) is `event.conversation.left`
with their username.

The actor hears their own writes: an event goes to every socket of
every user it concerns, the actor's included, so the socket that sent
the write (its answer first, then the event) and the actor's other
sessions get it too.

A socket gets the event of every write that commits after its
`session.open` answer. Events of writes that committed before it may
still arrive (an instance that learns of writes through a shared
database hears of them late), but only before any event of a later
write; clients recognise them by id (a message or conversation they
already have) and apply them like any other.

Close codes: 1009 (a frame over `limits.max_body_bytes`), 1013 (the
outgoing queue is full), 1011 (the server cannot re-check the
session), 4001, 4002 and 4003 (see "Key history"), and 1000 or none
when the server shuts down.

## Message content (end to end)

1. The sender draws a content key `C` (32 bytes), and encrypts the UTF-8
   JSON `{"text": ..., "file_name": ..., "file_type": ...}` (absent fields
   omitted) as `content` under a fresh `content_iv`, and the file bytes,
   if any, as `attachment.data` under its own `attachment.iv`, both with
   AES-256-GCM under `C` and empty AAD.
2. For every current member, the sender included, `C` is wrapped with
   RSA-OAEP under that member's public key: `keys[]`.
3. The sender signs with RSA-PSS the canonical message bytes below.
4. The server refuses a message whose `keys` do not name exactly the
   current members, each once (`members_mismatch`, also for a member
   named twice), stores ciphertext only, and
   returns each reader only the wrapped key addressed to them plus the
   digests of all wrapped keys (`recipients`), so the reader can verify
   the signature without the other members' wrapped keys.

Canonical message bytes: each field is a 4-byte big-endian length
followed by the bytes, in this order:
1. ASCII `nanochat/v1 message`
2. conversation id, lowercase hyphenated UUID, ASCII
3. message id, same form
4. content iv (12 bytes)
5. content ciphertext (including its tag)
6. SHA-256 of the attachment ciphertext (32 bytes), or an empty field
   (length 0) when there is no attachment
then the recipient count as a 4-byte big-endian integer, then for each
recipient sorted by username bytes ascending: the username (UTF-8,
length-prefixed) and SHA-256 of its wrapped key (length-prefixed, 32
bytes). Usernames must be unique.

Retries (exactly-once sends): a client that did not get the answer to
a `message.create` (a timeout, a dropped connection, a reloaded page)
sends it again as a new request (a fresh `request_id` and
`created_at`: the same envelope would get `replayed`) carrying the
same payload, the same message id with the same sealed content, not
sealed anew. The server tells a repeat from a new message by its id,
after the membership check (a sender who is no longer a member gets
`not_found`):
- A `message.create` whose id names a message of that conversation,
  sent by the same user, with the same sealed upload (byte for byte
  the same `content_iv`, `content`, attachment `iv` and `data`, `keys`
  with each `username`, `key` and `key_index` (in any order),
  `signature` and `signature_version`, absent and 1 being the same) is
  a repeat of the create that stored it. It is answered as that
  create was (a success carrying the stored message as the sender sees
  it, the same `created_at` included), stores nothing and sends no
  event. The server recognises a repeat before it checks the members,
  keys and signature again: they were checked when the message was
  stored, and a retry gets its message even after a member change or
  the sender's rotation would refuse the same upload as a new message.
- After an edit, a repeat of the original create gets the message as
  it is now (edited, with `edited_at`). The create did take effect,
  once: answering so keeps the client from sending the message again
  under a fresh id (a duplicate), and since a repeat writes nothing it
  cannot undo the edit. A create carrying the edited content under
  that id is not a repeat (`conflict`).
- After a deletion the id stays taken: any `message.create` with the
  id of a deleted message gets `conflict` and stores nothing, so a
  late retry never brings a deleted message back. (`not_found` would
  say the conversation is not visible, which it still is.)
- Any other use of a taken id is `conflict`: the same id with any
  difference in the upload, from another sender, or in another
  conversation (message ids are unique across conversations).
  Messages stored by a server from before this rule have no record of
  their upload, and a repeat of their create gets `conflict` too.
A client that gets `conflict` for a retry treats the send as settled
(stored once, then deleted, or never its to send) and does not send
it again under a fresh id.

## Conversation names (end to end)

The server never sees a conversation name. A name is sealed like message
content, by the member who sets it (the sealer):
1. Draw a name key `N` (32 bytes) and a 12-byte `iv`; `ciphertext =
   AES-256-GCM(N, iv, UTF-8 name, aad = empty)`. A name is 1 to 128
   Unicode characters, without control characters or leading or
   trailing whitespace; readers refuse any other plaintext. A
   character is a Unicode scalar value, a control character one of
   general category Cc, whitespace a character with the Unicode
   `White_Space` property. The server cannot read the name and checks
   only its size: more than 16 bytes of ciphertext (a tag and at least
   one byte), else `bad_request`, and at most 528 (128 characters of 4
   UTF-8 bytes and the 16-byte tag), else `too_large`.
2. Wrap `N` with RSA-OAEP for every current member that has a public key,
   the sealer included: `keys[]`.
3. Sign with RSA-PSS the canonical name bytes below.

Canonical name bytes: each field is a 4-byte big-endian length followed
by the bytes, in this order:
1. ASCII `nanochat/v1 conversation name`
2. conversation id, lowercase hyphenated UUID, ASCII
3. revision, 8-byte big-endian unsigned integer
4. iv (12 bytes)
5. ciphertext (including its tag)
then the recipient count and the sorted recipients exactly as for
messages: for each, the username and SHA-256 of its wrapped key.

The client chooses the conversation id at `conversation.create` (a fresh
random UUID; `conflict` if taken), so the id is signed from the start
and a server cannot move a name to another conversation.

Revisions: every conversation has a `name_revision`, 0 at creation
before any name. Every name change (set, re-seal, removal) increments
it by exactly one, and a sealed name must carry `revision =
name_revision + 1` (1 in `conversation.create`), else `conflict`. The
revision is signed, so a reader who remembers the highest revision it
has seen can detect a server that serves an older name.

The server checks that `keys` name exactly the current members that have
a key (`members_mismatch`; after a member change, the new member list)
and that the signature verifies with the sealer's (the caller's) key
(`bad_signature`), then stores the name as it is. A reader gets the
sealed name (`ConversationName`) with only the key wrapped for them plus
the signed digests, and checks, in this order: its own entry in the
signed list and the digest of the key it got; the sealer's signature
(with the sealer's key from the member list); then unwraps, decrypts and
checks the name rules.

Member changes: a `conversation.update` that changes the members of a
named conversation must carry the name re-sealed for the new member list
(or remove the name), else `members_mismatch`, so added members can read
it. A leave, a removal or a deletion needs nothing: the server forgets
the leaver's wrapped key, and any later name is sealed to the members of
that time only.

Re-sealing: readers keep their earlier private keys (see "Key
history"), so a member who rotated still opens the name key wrapped for
their earlier key, and a sealer's earlier key verifies through their key
history. A name is still re-sealed whenever it is not sealed for every
member's current key, so that it stays readable for clients that keep
only the current key and for a device that lost its ring: the server
marks it `reseal: true` when a current member with a key holds no key
wrapped for that key (they rotated, were added, or were reset and
completed again), or the sealer has left or changed key. A member whose
client can read and verify the name re-seals the unchanged name for the
current keys with `conversation.update` (`name` only, `revision + 1`)
when it sees `reseal` on a fetched or pushed conversation, which it does
after `event.user.key_changed` (re-fetch the shared named
conversations).
Concurrent re-seals resolve by the revision: the first one applied wins,
the others get `conflict`, re-fetch, and find `reseal: false`. A rename
racing a re-seal resolves the same way: whoever loses re-fetches and
decides again, so a re-seal never resurrects an older name.

## Key history

Every user has a key history: every public key they have had, in
order, each with its `index` (0 for the first key the server knew of,
then one more per change; never reused while the user exists), when it
became current (`since`) and when it stopped (`until`, absent for the
current key). `user.keys` returns it, oldest first (`KeyHistory`). The
server never removes or changes an entry, except that a deleted user's
history is deleted with them. `PublicUser.key_index` and
`Member.key_index` name the current key's index.

A key either continues its predecessor's chain or starts a new one:
- A successor, set by `user.update` with a new `public_key` (a
  rotation), carries two signatures over the succession bytes below:
  `succession_signature` by the previous private key (the previous key
  vouches for its successor) and `public_key_signature` by the new
  private key (proof of possession). The server verifies both against
  the caller's current key and the new key, and refuses the rotation
  with `bad_signature` if either does not verify (`bad_request` if
  either is missing), before it changes anything. The proof of earlier
  versions of this document (label `nanochat/v1 key rotation`, which
  named neither the index nor the previous key) is no longer accepted.
- A chain start carries neither: the key `user.complete` sets, after
  the operator created the user or reset them (`nanochat user reset`).
  Nothing the user signed before vouches for it. This, and only this,
  is an unexplained key change: clients warn about it and ask the
  person to compare fingerprints. A rotation is not an unexplained
  change and needs no warning.

What clients do about a changed key (this project's clients, the web
app and the Rust client with its command line, follow it; other
clients should):
- A rotation that verifies along the reader's trusted chain (below) is
  followed without asking: the reader's pin moves to the new key, a
  quiet notice says the contact rotated, and a contact the person had
  marked as verified stays verified.
- An unexplained change (a chain start after the pinned key, or a
  history that does not verify) is a loud warning showing both
  fingerprints. It clears the verified mark. Until the person accepts
  the new key (after comparing fingerprints with its owner), the
  client refuses to seal anything for that contact: it sends no
  message or file and seals no conversation name for a conversation
  that includes them, and says why. Reading goes on: what the new key
  signed is shown as not verified until it is accepted.
- "Verified" is the person's own statement that they compared a
  contact's fingerprint with the contact. Clients keep it per device
  and never send it to the server.

Succession bytes: each field is a 4-byte big-endian length followed by
the bytes, in this order:
1. ASCII `nanochat/v1 key succession` (26 bytes)
2. the username (UTF-8)
3. the new key's index, 8-byte big-endian unsigned integer (the
   previous key's index plus one)
4. the previous public key (SPKI DER, as stored)
5. the new public key (SPKI DER, the exact bytes of `public_key`)

For `alice` rotating to index 1 the bytes start `00 00 00 1a
"nanochat/v1 key succession" 00 00 00 05 "alice" 00 00 00 08 00 00 00
00 00 00 00 01`, then the two keys, each length-prefixed.

A reader verifies a history from a key it pinned (its index and
fingerprint), in this order, and refuses the whole history on any
failure:
1. The entries are in strictly increasing, consecutive index order
   starting at the first entry's index (no gap, no repeat, no
   reordering), and every entry but the last has `until`.
2. The entry at the pinned index has the pinned fingerprint (a server
   that rewrites history is caught here).
3. Forward: for each later entry with a `succession_signature`, both
   signatures verify over its succession bytes with the previous
   entry's key and its own. The walk stops at the first chain start.
4. Backward: for the pinned entry and each earlier one, while the entry
   has a `succession_signature`, the same check makes its predecessor
   trusted. The walk stops at a chain start.
The keys so reached form the reader's trusted chain of that user: every
key in it is the user's as surely as the pinned one. A reader who first
pinned a later key (a new member, a second device) walks backward to
verify older messages; one who pinned an early key walks forward to
follow rotations without a warning. A key beyond a chain start is
trusted only once the person accepts it (an unexplained change).

Which key signed: `Message.sender_key_index` and
`ConversationName.sealer_key_index` name the entry of the sender's (or
sealer's) history whose key the server verified the signature with when
it accepted the message or name. A reader checks that entry is in its
trusted chain of that user, and verifies the signature with that key
only. Messages and names signed with `signature_version` 2 bind the
signer's key into the signed bytes (below), so the signature itself says
which key made it. A server that names a key outside the chain, or
another key than the one that signed, is detected: the entry is not in
the trusted chain, or the signature does not verify. A reader also
checks that the message's `created_at` (or name's `sealed_at`) lies
within the key's `since` and `until`, and does not show as verified a
message that claims a key retired before it was accepted.

Keyed signatures (`signature_version` 2): the canonical message bytes
and canonical name bytes above, with their first field replaced by two:
1. ASCII `nanochat/v1 keyed message` (or `nanochat/v1 keyed
   conversation name` for names)
2. the signer's key fingerprint: SHA-256 of its SPKI DER (32 bytes)
followed by every other field exactly as in version 1. A request sets
`signature_version: 2` on `CreateMessage`, `UpdateMessage` or
`SealedName` to use it; without it (or with 1) the version 1 bytes
apply. A server verifies the signature with the caller's current key
under the version named, and serves the version with the message or
name. Clients send version 2; version 1 stays accepted for clients
written before it.

Which key a wrapped key is for: `WrappedKey.key_index` (in requests)
names the recipient's key index the content or name key was wrapped
for. When present it must be the recipient's current index, else
`members_mismatch` (the recipient rotated since the sender fetched the
members: fetch again and re-seal). The server records, for every
wrapped key, the recipient's index it was wrapped for (the current one
when the request omits it), and serves it to the reader as
`Message.key_index` and `ConversationName.key_index`, so a reader opens
it with exactly that key of theirs, never by trying each.

Readers keep their keys: after a rotation a client keeps every earlier
private key of its user (its key ring), encrypted as before, so content
and names wrapped for an earlier key still open. The server-stored
copy (`EncryptedPrivateKey` version 2) and key files (version 2) hold
the whole ring.

What a rotation cannot undo: someone who holds a retired private key
can still sign bytes with it. The server refuses every request whose
envelope is not signed by the current key and every message or name not
signed by it, so they cannot post; but a dishonest server could, with
that key, add messages signed by it and claim they were accepted before
the rotation (with a `created_at` inside the key's period). Readers
cannot tell those from genuine ones. A rotation after a key was stolen
protects what follows it, not what the thief and the server together
claim preceded it.

Messages and names accepted before the server kept key history (a
server upgraded from an earlier version) have no `sender_key_index`
or `sealer_key_index` (and no `key_index`): they were signed with
version 1 bytes by whatever key the sender had then. The history of
every user then starts with the key they had at the upgrade (index 0,
a chain start). A reader verifies such a message or name with the key
at index 0 of the sender's history, and opens its wrapped key with its
own key at index 0. When the sender had rotated before the upgrade,
that key did not sign it and the earlier key is gone: the reader shows
it as signed by a key the server no longer has, not as verified.

Sessions of a user whose key changes end: a rotation, an operator reset
and a deletion close every WebSocket of that user, within a second even
when the change was made by another process (the operator command line,
another instance), with close code 4001 (the key was replaced: the
reason says whether by a rotation or by completing again after a
reset), 4002 (the operator reset the user; they must complete again)
or 4003 (the user was deleted). A client whose session closed with 4001
after a rotation on another device has an earlier key only: it logs in
again (`user.sync` fetches the ring when the server holds a copy) or
imports a key file made after the rotation.

## Password-encrypted private keys

`EncryptedPrivateKey`: `key = Argon2id(password, salt, m_cost, t_cost,
p_cost, 32 bytes)`, `ciphertext = AES-256-GCM(key, iv, PKCS#8 DER, aad =
"nanochat/v1 private-key")`. Argon2id is version 0x13 (19, RFC 9106)
with no secret and no associated data, and its output is 32 bytes. The
blob stores no Argon2 version: format `version: 1` fixes 0x13, and any
other Argon2 version would be a new format version. The password is its
UTF-8 bytes. The server stores the blob as it is; it never sees the
password. Readers refuse parameters below the floor (m_cost < 19456,
t_cost < 2, p_cost < 1) and above the ceilings m_cost > 1048576 (1
GiB), t_cost > 20, p_cost > 16 and m_cost * t_cost > 2097152, so a blob
cannot make a reader spend minutes or gigabytes. The sync password is stored as an Argon2id PHC string.

Format `version: 2` holds a key ring instead of one key: the same
Argon2id and AES-256-GCM construction with `aad = "nanochat/v1
private-key ring"`, over the ring bytes: the number of keys as a 4-byte
big-endian integer, then each key's PKCS#8 DER as a 4-byte big-endian
length followed by the bytes, oldest first. The last key is the
current one; the others are the user's earlier keys, which a reader
picks by fingerprint (a ring holds at most 256 keys, each at most
16384 bytes). A ring of one key is what version 1 held. A server stores
and serves either version as it is; a client that writes one after a
rotation writes version 2 with every earlier key it holds. A client
that reads only version 1 refuses a version 2 blob (unknown version);
a client that reads version 2 reads a version 1 blob as a ring of one
key.

## Not provided by v1

Forward secrecy, hiding the social graph (who talks to whom, when) from
the server itself, and multi-device sessions beyond using the same key on
several devices.


Version: 1.0.0*/
    pub struct Client {
        pub(crate) baseurl: String,
        pub(crate) client: reqwest::Client,
    }
    impl Client {
        /// Create a new client.
        ///
        /// `baseurl` is the base URL provided to the internal
        /// `reqwest::Client`, and should include a scheme and hostname,
        /// as well as port and a path stem if applicable.
        pub fn new(baseurl: &str) -> Self {
            #[cfg(not(target_arch = "wasm32"))]
            let client = {
                let dur = ::std::time::Duration::from_secs(15u64);
                reqwest::ClientBuilder::new().connect_timeout(dur).timeout(dur)
            };
            #[cfg(target_arch = "wasm32")]
            let client = reqwest::ClientBuilder::new();
            Self::new_with_client(baseurl, client.build().unwrap())
        }
        /// Construct a new client with an existing `reqwest::Client`,
        /// allowing more control over its configuration.
        ///
        /// `baseurl` is the base URL provided to the internal
        /// `reqwest::Client`, and should include a scheme and hostname,
        /// as well as port and a path stem if applicable.
        pub fn new_with_client(baseurl: &str, client: reqwest::Client) -> Self {
            Self {
                baseurl: baseurl.to_string(),
                client,
            }
        }
    }
    impl ClientInfo<()> for Client {
        fn api_version() -> &'static str {
            "1.0.0"
        }
        fn baseurl(&self) -> &str {
            self.baseurl.as_str()
        }
        fn client(&self) -> &reqwest::Client {
            &self.client
        }
        fn inner(&self) -> &() {
            &()
        }
    }
    impl ClientHooks<()> for &Client {}
    #[allow(clippy::all)]
    impl Client {
        /**The server public key, protocol version, clock, freshness window and limits

Unencrypted. Clients pin the server key on first use and warn loudly if it changes.

Sends a `GET` request to `/references`

*/
        pub async fn get_references<'a>(
            &'a self,
        ) -> Result<ResponseValue<crate::models::References>, Error<()>> {
            let url = format!("{}/references", self.baseurl,);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map
                .append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
            #[allow(unused_mut)]
            let mut request = self
                .client
                .get(url)
                .header(
                    ::reqwest::header::ACCEPT,
                    ::reqwest::header::HeaderValue::from_static("application/json"),
                )
                .headers(header_map)
                .build()?;
            let info = OperationInfo {
                operation_id: "get_references",
            };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
        /**Send one encrypted request Body and receive the encrypted response Body

Sends a `POST` request to `/encrypted`

*/
        pub async fn post_encrypted<'a>(
            &'a self,
            body: &'a crate::models::EncryptedRequest,
        ) -> Result<
            ResponseValue<crate::models::EncryptedBody>,
            Error<crate::models::Error>,
        > {
            let url = format!("{}/encrypted", self.baseurl,);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map
                .append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
            #[allow(unused_mut)]
            let mut request = self
                .client
                .post(url)
                .header(
                    ::reqwest::header::ACCEPT,
                    ::reqwest::header::HeaderValue::from_static("application/json"),
                )
                .json(&body)
                .headers(header_map)
                .build()?;
            let info = OperationInfo {
                operation_id: "post_encrypted",
            };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                400u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                401u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                413u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                429u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                500u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
        /**Upgrade to a WebSocket carrying EncryptedBody text frames and encrypted events

The first frame must be a signed session.open request. See the info description for the frame format.

Sends a `GET` request to `/websocket`

*/
        pub async fn websocket<'a>(
            &'a self,
        ) -> Result<ResponseValue<reqwest::Upgraded>, Error<crate::models::Error>> {
            let url = format!("{}/websocket", self.baseurl,);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map
                .append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
            #[allow(unused_mut)]
            let mut request = self
                .client
                .get(url)
                .headers(header_map)
                .header(::reqwest::header::CONNECTION, "Upgrade")
                .header(::reqwest::header::UPGRADE, "websocket")
                .header(::reqwest::header::SEC_WEBSOCKET_VERSION, "13")
                .header(
                    ::reqwest::header::SEC_WEBSOCKET_KEY,
                    ::base64::Engine::encode(
                        &::base64::engine::general_purpose::STANDARD,
                        ::rand::random::<[u8; 16]>(),
                    ),
                )
                .build()?;
            let info = OperationInfo {
                operation_id: "websocket",
            };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                101u16 => ResponseValue::upgrade(response).await,
                400u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
        /**Liveness and readiness probe

Sends a `GET` request to `/health`

*/
        pub async fn get_health<'a>(
            &'a self,
        ) -> Result<ResponseValue<crate::models::Health>, Error<crate::models::Error>> {
            let url = format!("{}/health", self.baseurl,);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map
                .append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
            #[allow(unused_mut)]
            let mut request = self
                .client
                .get(url)
                .header(
                    ::reqwest::header::ACCEPT,
                    ::reqwest::header::HeaderValue::from_static("application/json"),
                )
                .headers(header_map)
                .build()?;
            let info = OperationInfo {
                operation_id: "get_health",
            };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                503u16 => {
                    Err(
                        Error::ErrorResponse(
                            ResponseValue::from_response(response).await?,
                        ),
                    )
                }
                _ => Err(Error::UnexpectedResponse(response)),
            }
        }
    }
    /// Items consumers will typically use such as the Client.
    pub mod prelude {
        #[allow(unused_imports)]
        pub use super::Client;
    }
}
/// The seam to the envelope code: sends one typed request and
/// returns the decrypted, validated response payload.
pub trait Exchange: Send + Sync {
    /// The error of a failed exchange; a payload that does not match its schema converts into it.
    type Error: From<serde_json::Error> + Send;
    /// Seals `request`, sends it, opens and validates the response, and returns its payload.
    fn exchange(
        &self,
        request: Request,
    ) -> impl std::future::Future<
        Output = Result<serde_json::Value, Self::Error>,
    > + Send;
}
fn decode<T: serde::de::DeserializeOwned, E: From<serde_json::Error>>(
    payload: serde_json::Value,
) -> Result<T, E> {
    Ok(serde_json::from_value(payload)?)
}
/// One typed method per body type of the catalogue.
pub trait Bodies: Exchange {
    /// `session.open`: Opens an event session on a WebSocket; must be the first frame there. Over POST /encrypted, or as a later frame of a socket whose session is open, it gets bad_request (encrypted) and the socket keeps its session. session_required is the plain answer to any other first frame.
    fn session_open(
        &self,
    ) -> impl std::future::Future<
        Output = Result<crate::models::SessionOpened, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::SessionOpen).await?) }
    }
    /// `user.complete`: Completes a user created by the operator, with the one-time complete token; signed with the new private key (proof of possession).
    fn user_complete(
        &self,
        payload: crate::models::CompleteUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserComplete(payload)).await?) }
    }
    /// `user.sync`: Fetches the password-encrypted private key stored on the server, for the right sync password. The only unsigned request. An unknown user, a pending user, a user without a stored key and a wrong password all get the same wrong_password (never unknown_user), and each counts as a failed attempt, so the answer does not reveal which usernames exist. After 5 failed attempts for a username within 15 minutes, user.sync answers rate_limited, before the password is checked and even for the right one, until the window has passed (a server may also limit failed attempts per client address). A successful user.sync clears the username's failed attempts (not the per-address count, which only the window clears).
    fn user_sync(
        &self,
        payload: crate::models::SyncUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PrivateKeyUser, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserSync(payload)).await?) }
    }
    /// `user.get`: Looks up a user's display name and public key (to pin it and check its fingerprint).
    fn user_get(
        &self,
        payload: crate::models::BaseUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserGet(payload)).await?) }
    }
    /// `user.keys`: A user's key history, oldest first (see Key history in the info description), to verify a rotation or an earlier key from a pinned one. A pending user (reset by the operator) has one, without a current key; an unknown user gets not_found.
    fn user_keys(
        &self,
        payload: crate::models::BaseUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::KeyHistory, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserKeys(payload)).await?) }
    }
    /// `user.update`: Changes the caller's display name, key pair, server-stored private key or sync password. A new public_key (a rotation) needs succession_signature and public_key_signature (see Key history) and becomes the next entry of the caller's key history; every session of the caller ends (close code 4001; the rotating client opens a new one with its new key). Members of shared conversations get event.user.key_changed when the public key changes.
    fn user_update(
        &self,
        payload: crate::models::UpdateUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::PublicUser, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserUpdate(payload)).await?) }
    }
    /// `user.delete`: Deletes the caller, immediately and irreversibly. The caller leaves every conversation (conversations they own pass to the longest-standing member, and a conversation left without members is deleted) and every message they sent is deleted.
    fn user_delete(
        &self,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::UserDelete).await?) }
    }
    /// `conversation.create`: Creates a conversation between the caller (its owner) and one or more other users, with the id the caller chose and optionally a sealed name (revision 1). Every member must be a completed user; an unknown or pending one (created or reset and not yet completed) gets not_found, as does adding one with conversation.update. After the pipeline's checks (see Check order in the info description) it checks the member count (too_large) before anything else, before it looks the members up (not_found), checks the sealed name or the id (conflict).
    fn conversation_create(
        &self,
        payload: crate::models::CreateConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationCreate(payload)).await?) }
    }
    /// `conversation.update`: Sets, re-seals or removes the sealed name (any member) and/or replaces the member list (owner only; the owner stays a member; a named conversation needs its name re-sealed for the new members). The members after the change get event.conversation.updated; each removed member gets event.conversation.removed.
    fn conversation_update(
        &self,
        payload: crate::models::Conversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationUpdate(payload)).await?) }
    }
    /// `conversation.leave`: The caller leaves the conversation. An owner who leaves passes ownership to the longest-standing member; the last member to leave deletes it.
    fn conversation_leave(
        &self,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationLeave(payload)).await?) }
    }
    /// `conversation.delete`: Deletes the conversation and all its messages (owner only).
    fn conversation_delete(
        &self,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationDelete(payload)).await?) }
    }
    /// `conversation.get`: One conversation with its members' public keys and the latest page of messages.
    fn conversation_get(
        &self,
        payload: crate::models::BaseConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationGet(payload)).await?) }
    }
    /// `conversation.list`: Every conversation of the caller, most recently active first, each with its latest message only.
    fn conversation_list(
        &self,
    ) -> impl std::future::Future<
        Output = Result<crate::models::List, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::ConversationList).await?) }
    }
    /// `message.create`: Posts an end-to-end encrypted message; keys must name exactly the current members. A repeat (same sender, conversation and id, byte-identical sealed upload; see Retries under Message content in the info description) gets the stored message as it is now and stores nothing and sends no event; any other use of the id of an existing or deleted message is conflict.
    fn message_create(
        &self,
        payload: crate::models::CreateMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Message, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::MessageCreate(payload)).await?) }
    }
    /// `message.update`: Replaces a message's content with a fresh content key (sender only).
    fn message_update(
        &self,
        payload: crate::models::UpdateMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Message, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::MessageUpdate(payload)).await?) }
    }
    /// `message.delete`: Deletes a message (sender only).
    fn message_delete(
        &self,
        payload: crate::models::BaseMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Empty, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::MessageDelete(payload)).await?) }
    }
    /// `message.list`: A page of a conversation's history, newest first, before an optional opaque cursor (see ListMessages.before for cursors the server did not issue).
    fn message_list(
        &self,
        payload: crate::models::ListMessages,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessagePage, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::MessageList(payload)).await?) }
    }
    /// `message.attachment`: Downloads one message's encrypted attachment; lists never inline attachment bytes.
    fn message_attachment(
        &self,
        payload: crate::models::BaseMessage,
    ) -> impl std::future::Future<
        Output = Result<crate::models::Attachment, Self::Error>,
    > + Send {
        async move { decode(self.exchange(Request::MessageAttachment(payload)).await?) }
    }
}
impl<T: Exchange + ?Sized> Bodies for T {}
