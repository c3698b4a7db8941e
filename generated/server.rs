// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.

use crate::bodies::{Request, Response};
/// `info.title` of api.yml.
pub const API_TITLE: &str = "NanoChat";
/// `info.version` of api.yml.
pub const API_VERSION: &str = "1.0.0";
/// `info.description` of api.yml, served with the spec.
pub const API_DESCRIPTION: &str = "NanoChat protocol v1: a self-hosted, end-to-end encrypted chat.\n\nThis document is the single source of truth for the wire format. The\ntransport is three HTTP paths (`GET /references`, `POST /encrypted`,\n`GET /websocket`) plus `GET /health`; everything a user does travels\ninside an encrypted `Body`, whose catalogue of types is the vendor\nextension `x-nanochat-bodies` (requests) and `x-nanochat-events` (events\npushed over the WebSocket) at the root of this document.\n\n## Primitives (no others)\n\n| purpose | algorithm |\n| --- | --- |\n| key pairs (users, server) | RSA, 3072-bit default; 2048..4096 accepted, anything else rejected; e = 65537 |\n| key wrap | RSA-OAEP, SHA-256, MGF1-SHA-256, empty label |\n| signatures | RSA-PSS, SHA-256, MGF1-SHA-256, salt length 32 |\n| bulk encryption | AES-256-GCM, 96-bit random IV, 128-bit tag appended to the ciphertext |\n| response and event keys | HKDF-SHA-256 |\n| password to key | Argon2id, parameters stored with the ciphertext, never weaker than m=19456 KiB, t=2, p=1 |\n| randomness | the operating system CSPRNG |\n\nBinary values are base64 (RFC 4648 standard alphabet, with padding).\nPublic keys are DER SubjectPublicKeyInfo, private keys DER PKCS#8. A key\nfingerprint is SHA-256 of the SubjectPublicKeyInfo DER, written as 16\ngroups of 4 lowercase hex digits separated by spaces.\n\n## Request envelope (`EncryptedRequest`)\n\n1. Draw a fresh 32-byte key `K` and a 12-byte `iv`.\n2. `data = AES-256-GCM(K, iv, plaintext = UTF-8 JSON of a Body, aad = empty)`.\n3. `key = RSA-OAEP(server public key from /references, K)`.\n4. `signature = RSA-PSS(user private key, key || iv || data)`: the raw\n   bytes concatenated (encrypt-then-sign). Every request type is signed\n   except `user.sync`; `user.complete` is signed with the private key\n   matching the public key it carries (proof of possession).\n5. Send `{version: 1, key, iv, data, signature}`.\n\nThe server rate-limits the peer address, unwraps `K`, decrypts, parses\nthe `Body`, checks the freshness of `created_at`, the Body's shape and\nthe username's form, looks the user up and verifies the signature,\nrecords the `request_id` (replay guard), and only then acts. A server\nmay instead record the `request_id` in the same transaction as the\nrequest's change, and after the request when it changes nothing or\nfails: either way a request id is accepted once, a replay changes\nnothing and tells nobody, and it is answered `replayed` whatever else\nit would have been answered. An envelope\nthat cannot be opened gets a plain `Error` (HTTP 400/401/413/429, or 500\nwhen the server fails before it can encrypt); once `K` is known every\nanswer, errors included, is encrypted and sent with HTTP 200 so the\nstatus line tells an observer nothing. Besides the codes each body type\nlists in `x-nanochat-bodies`, any request may get the pipeline's codes:\n`bad_request`, `unknown_type`, `stale`, `replayed`, `unknown_user`,\n`bad_signature` and `internal`. `unknown_user` comes only from the\nsignature check, so the unsigned `user.sync` never gets it (it answers\n`wrong_password` for an unknown or pending user, against probing), and\n`user.complete`, checked against the key it carries, gets\n`invalid_token` instead.\n\nA request body larger than `limits.max_body_bytes` gets a plain 413\n(`too_large`) and nothing in it is acted on. So that a client still\nsending it reads that answer instead of having its connection reset\nunder it, the server reads the body to its end and discards it, if it\nis at most twice the limit, before it answers; a body announced larger\nthan that is answered at once, and the connection is then closed.\n\nCheck order, where a request breaks more than one rule: the pipeline\nsteps above in their order, then the type's own checks in the order its\ndescription gives; the first failing check answers. `user.complete`\nchecks the key it carries against the key policy (`invalid_key`) before\nit verifies the signature with that key (`bad_signature`), and the token\n(`invalid_token`) after both. `conversation.create` checks the member\ncount (`too_large`, the caller counted once and duplicates ignored)\nbefore it looks the members up (`not_found`) or checks the sealed name\nor the id (`conflict`).\n\n## The Body\n\nA request's plaintext is one JSON object, the `Body`: `type`,\n`created_at`, `request_id`, `username` and, where the type has one,\n`payload`.\n- `created_at` is an RFC 3339 date-time string such as\n  `2026-11-25T09:00:00Z`. Senders write UTC; a receiver reads any offset\n  as the instant it names. Receivers accept every RFC 3339 section 5.6\n  `date-time`: `T` or `t` (or a space) between date and time, any\n  number of fractional-second digits or none, and `Z`, `z` or a\n  numeric offset `+hh:mm` / `-hh:mm`; senders write `T` and `Z`. A request whose `created_at` is missing, or\n  is not such a string, gets `bad_request` (before freshness is\n  checked); a well-formed one outside the window gets `stale`.\n- Closed objects: the `Body` and every object a request carries (each\n  payload schema and the objects inside it) accept only the fields\n  their schema lists (`additionalProperties: false`). A request with any\n  other field, at any depth and of any size, gets `bad_request`; these\n  schemas are closed wherever they appear, in responses and events too.\n  The schemas that only servers send (responses and events) are open: a\n  v1 server sends only the fields listed, and clients ignore fields they\n  do not know.\n- No payload: the types whose `payload` is `null` in\n  `x-nanochat-bodies` (`session.open`, `user.delete`,\n  `conversation.list`) take none. The request omits `payload`, or sends\n  `null` or `{}`; the three mean the same. Any other value (an object\n  with a field, an array, a string) gets `bad_request`. Every response\n  type has a schema, so a successful response always carries a\n  `payload` object (`Empty` is `{}`) and no `error`; a refused one\n  carries `error` and no `payload`.\n- UUIDs (`request_id`, conversation and message ids) are written in the\n  lowercase hyphenated form, 8-4-4-4-12 lowercase hex digits (36\n  characters), which is also the form the canonical message and name\n  bytes sign. Any other spelling of a UUID in a request (uppercase,\n  braces, no hyphens, `urn:uuid:`) gets `bad_request`, so the id a\n  client signs is always the string it sends. Servers write the same\n  form.\n- A Body the server cannot read at all (not a JSON object, a missing or\n  malformed `created_at`, a field of the wrong type, a `request_id`\n  in another spelling than the one above) gets `bad_request`\n  in a response with an empty `type` and no `request_id`, since the\n  server could not read them; it still decrypts under `K_resp`, which\n  is what makes it the answer to this request.\n\n## Response (`EncryptedBody` without `key`)\n\n`K_resp = HKDF-SHA-256(ikm = K, salt = request iv, info = \"nanochat/v1 response\")`\n(32 bytes). The response is `{version: 1, iv, data}` with a fresh `iv` and\n`data = AES-256-GCM(K_resp, iv, JSON of the response Body, aad = empty)`.\nOnly the holder of the server private key can derive `K_resp`, so a\nresponse that decrypts is authentic. The client rejects a response whose\n`request_id` does not echo its request or whose `created_at` is outside\nthe freshness window.\n\n## Freshness and replay\n\nThe server rejects a request whose `created_at` is more than\n`freshness_window_seconds` (default 300, announced by `/references`)\naway from its clock (`stale`), and a `request_id` it has already accepted\nfrom the same user within the window (`replayed`), also across restarts.\n\n## WebSocket (`GET /websocket`)\n\nText frames carry the same `EncryptedBody` JSON as `POST /encrypted`.\nEach request frame gets exactly one response frame, encrypted under that\nrequest's `K_resp`. The first request must be a signed `session.open`,\nsent within one ping interval (30 s) of the upgrade;\nany other first request gets a plain `Error` frame with code\n`session_required`, a first frame that is not an `EncryptedBody` gets a\nplain `bad_envelope`, a `session.open` that is refused gets its\nencrypted error, and in all three cases the socket is then closed.\n`session_required` is only ever that plain answer to a first frame. A\n`session.open` anywhere else, over `POST /encrypted` or as a later frame\nof a socket whose session is open, gets an encrypted `bad_request` and\nchanges nothing: the socket stays open with its first session. A\nsocket whose first frame has not come within the ping interval is\nclosed without a close frame. Later request frames are authenticated\neach by its own signature, like `POST /encrypted`: a frame signed by\nanother user than the session's is that user's request (answered on\nthis socket), while the socket's events stay the session user's. The\nper-address rate limit applies to every frame: a refused frame gets a\nplain `rate_limited` Error frame after the same hold as on HTTP (1 s by\ndefault), nothing in it is acted on, and the socket stays open (a\nrefused first frame closes it). A\nsession ends (the socket closes, with the close codes of \"Key\nhistory\") when its user's key changes or the user is reset or deleted;\na change the operator makes outside the serving process may take the\nserver up to a second to notice, for sessions and for the signature\ncheck alike. Its `K` and `iv` give\n`K_events = HKDF-SHA-256(ikm = K, salt = iv, info = \"nanochat/v1 events\")`.\nEvents are `EncryptedBody` frames `{version: 1, seq, iv, data}` where\n`data = AES-256-GCM(K_events, iv, JSON of the event Body, aad = \"nanochat/v1 event\" || seq as 8-byte big-endian)`.\n`seq` starts at 1 and strictly increases per socket; the client rejects\na frame whose `seq` does not increase or whose Body `created_at` is out\nof the window. The server pings every 30 s, and closes without a close\nframe a socket from which nothing (no frame, not even a pong) has come\nfor three ping intervals, its silence limit; a socket whose outgoing queue\nis full (a slow reader) is closed rather than allowed to delay others\n(close code 1013, try again later). A frame (or a message of several\nframes) larger than `limits.max_body_bytes` closes the socket with\nclose code 1009 (message too big), and nothing in it is acted on. So\nthat a client still writing such a frame reads the close frame instead\nof having its connection reset under it, the server reads the frame\nto its end and discards it, if it is at most twice the limit, before\nit sends the close frame; it then waits up to 5 s for the client's\nclose frame, discarding anything else the client sends, and ends the\nconnection. The frame must arrive within the socket's silence limit\n(three ping intervals) like any other. A frame over twice the limit\nis cut off at its header: the server sends the close frame and ends\nthe connection with the rest unread, which the client may see as a\nreset instead of the close frame. Clients keep their frames within\nthe limit, which `/references` announces.\n\nThe event types and what each means are the catalogue\n`x-nanochat-events`. A user who loses a conversation learns why: its\ndeletion is `event.conversation.deleted` (to every member), the\nowner removing them from it is `event.conversation.removed` (to them\nonly; the remaining members get `event.conversation.updated`), and\ntheir own leave (from another socket) is `event.conversation.left`\nwith their username.\n\nThe actor hears their own writes: an event goes to every socket of\nevery user it concerns, the actor's included, so the socket that sent\nthe write (its answer first, then the event) and the actor's other\nsessions get it too.\n\nA socket gets the event of every write that commits after its\n`session.open` answer. Events of writes that committed before it may\nstill arrive (an instance that learns of writes through a shared\ndatabase hears of them late), but only before any event of a later\nwrite; clients recognise them by id (a message or conversation they\nalready have) and apply them like any other.\n\nClose codes: 1009 (a frame over `limits.max_body_bytes`), 1013 (the\noutgoing queue is full), 1011 (the server cannot re-check the\nsession), 4001, 4002 and 4003 (see \"Key history\"), and 1000 or none\nwhen the server shuts down.\n\n## Message content (end to end)\n\n1. The sender draws a content key `C` (32 bytes), and encrypts the UTF-8\n   JSON `{\"text\": ..., \"file_name\": ..., \"file_type\": ...}` (absent fields\n   omitted) as `content` under a fresh `content_iv`, and the file bytes,\n   if any, as `attachment.data` under its own `attachment.iv`, both with\n   AES-256-GCM under `C` and empty AAD.\n2. For every current member, the sender included, `C` is wrapped with\n   RSA-OAEP under that member's public key: `keys[]`.\n3. The sender signs with RSA-PSS the canonical message bytes below.\n4. The server refuses a message whose `keys` do not name exactly the\n   current members, each once (`members_mismatch`, also for a member\n   named twice), stores ciphertext only, and\n   returns each reader only the wrapped key addressed to them plus the\n   digests of all wrapped keys (`recipients`), so the reader can verify\n   the signature without the other members' wrapped keys.\n\nCanonical message bytes: each field is a 4-byte big-endian length\nfollowed by the bytes, in this order:\n1. ASCII `nanochat/v1 message`\n2. conversation id, lowercase hyphenated UUID, ASCII\n3. message id, same form\n4. content iv (12 bytes)\n5. content ciphertext (including its tag)\n6. SHA-256 of the attachment ciphertext (32 bytes), or an empty field\n   (length 0) when there is no attachment\nthen the recipient count as a 4-byte big-endian integer, then for each\nrecipient sorted by username bytes ascending: the username (UTF-8,\nlength-prefixed) and SHA-256 of its wrapped key (length-prefixed, 32\nbytes). Usernames must be unique.\n\nRetries (exactly-once sends): a client that did not get the answer to\na `message.create` (a timeout, a dropped connection, a reloaded page)\nsends it again as a new request (a fresh `request_id` and\n`created_at`: the same envelope would get `replayed`) carrying the\nsame payload, the same message id with the same sealed content, not\nsealed anew. The server tells a repeat from a new message by its id,\nafter the membership check (a sender who is no longer a member gets\n`not_found`):\n- A `message.create` whose id names a message of that conversation,\n  sent by the same user, with the same sealed upload (byte for byte\n  the same `content_iv`, `content`, attachment `iv` and `data`, `keys`\n  with each `username`, `key` and `key_index` (in any order),\n  `signature` and `signature_version`, absent and 1 being the same) is\n  a repeat of the create that stored it. It is answered as that\n  create was (a success carrying the stored message as the sender sees\n  it, the same `created_at` included), stores nothing and sends no\n  event. The server recognises a repeat before it checks the members,\n  keys and signature again: they were checked when the message was\n  stored, and a retry gets its message even after a member change or\n  the sender's rotation would refuse the same upload as a new message.\n- After an edit, a repeat of the original create gets the message as\n  it is now (edited, with `edited_at`). The create did take effect,\n  once: answering so keeps the client from sending the message again\n  under a fresh id (a duplicate), and since a repeat writes nothing it\n  cannot undo the edit. A create carrying the edited content under\n  that id is not a repeat (`conflict`).\n- After a deletion the id stays taken: any `message.create` with the\n  id of a deleted message gets `conflict` and stores nothing, so a\n  late retry never brings a deleted message back. (`not_found` would\n  say the conversation is not visible, which it still is.)\n- Any other use of a taken id is `conflict`: the same id with any\n  difference in the upload, from another sender, or in another\n  conversation (message ids are unique across conversations).\n  Messages stored by a server from before this rule have no record of\n  their upload, and a repeat of their create gets `conflict` too.\nA client that gets `conflict` for a retry treats the send as settled\n(stored once, then deleted, or never its to send) and does not send\nit again under a fresh id.\n\n## Conversation names (end to end)\n\nThe server never sees a conversation name. A name is sealed like message\ncontent, by the member who sets it (the sealer):\n1. Draw a name key `N` (32 bytes) and a 12-byte `iv`; `ciphertext =\n   AES-256-GCM(N, iv, UTF-8 name, aad = empty)`. A name is 1 to 128\n   Unicode characters, without control characters or leading or\n   trailing whitespace; readers refuse any other plaintext. A\n   character is a Unicode scalar value, a control character one of\n   general category Cc, whitespace a character with the Unicode\n   `White_Space` property. The server cannot read the name and checks\n   only its size: more than 16 bytes of ciphertext (a tag and at least\n   one byte), else `bad_request`, and at most 528 (128 characters of 4\n   UTF-8 bytes and the 16-byte tag), else `too_large`.\n2. Wrap `N` with RSA-OAEP for every current member that has a public key,\n   the sealer included: `keys[]`.\n3. Sign with RSA-PSS the canonical name bytes below.\n\nCanonical name bytes: each field is a 4-byte big-endian length followed\nby the bytes, in this order:\n1. ASCII `nanochat/v1 conversation name`\n2. conversation id, lowercase hyphenated UUID, ASCII\n3. revision, 8-byte big-endian unsigned integer\n4. iv (12 bytes)\n5. ciphertext (including its tag)\nthen the recipient count and the sorted recipients exactly as for\nmessages: for each, the username and SHA-256 of its wrapped key.\n\nThe client chooses the conversation id at `conversation.create` (a fresh\nrandom UUID; `conflict` if taken), so the id is signed from the start\nand a server cannot move a name to another conversation.\n\nRevisions: every conversation has a `name_revision`, 0 at creation\nbefore any name. Every name change (set, re-seal, removal) increments\nit by exactly one, and a sealed name must carry `revision =\nname_revision + 1` (1 in `conversation.create`), else `conflict`. The\nrevision is signed, so a reader who remembers the highest revision it\nhas seen can detect a server that serves an older name.\n\nThe server checks that `keys` name exactly the current members that have\na key (`members_mismatch`; after a member change, the new member list)\nand that the signature verifies with the sealer's (the caller's) key\n(`bad_signature`), then stores the name as it is. A reader gets the\nsealed name (`ConversationName`) with only the key wrapped for them plus\nthe signed digests, and checks, in this order: its own entry in the\nsigned list and the digest of the key it got; the sealer's signature\n(with the sealer's key from the member list); then unwraps, decrypts and\nchecks the name rules.\n\nMember changes: a `conversation.update` that changes the members of a\nnamed conversation must carry the name re-sealed for the new member list\n(or remove the name), else `members_mismatch`, so added members can read\nit. A leave, a removal or a deletion needs nothing: the server forgets\nthe leaver's wrapped key, and any later name is sealed to the members of\nthat time only.\n\nRe-sealing: readers keep their earlier private keys (see \"Key\nhistory\"), so a member who rotated still opens the name key wrapped for\ntheir earlier key, and a sealer's earlier key verifies through their key\nhistory. A name is still re-sealed whenever it is not sealed for every\nmember's current key, so that it stays readable for clients that keep\nonly the current key and for a device that lost its ring: the server\nmarks it `reseal: true` when a current member with a key holds no key\nwrapped for that key (they rotated, were added, or were reset and\ncompleted again), or the sealer has left or changed key. A member whose\nclient can read and verify the name re-seals the unchanged name for the\ncurrent keys with `conversation.update` (`name` only, `revision + 1`)\nwhen it sees `reseal` on a fetched or pushed conversation, which it does\nafter `event.user.key_changed` (re-fetch the shared named\nconversations).\nConcurrent re-seals resolve by the revision: the first one applied wins,\nthe others get `conflict`, re-fetch, and find `reseal: false`. A rename\nracing a re-seal resolves the same way: whoever loses re-fetches and\ndecides again, so a re-seal never resurrects an older name.\n\n## Key history\n\nEvery user has a key history: every public key they have had, in\norder, each with its `index` (0 for the first key the server knew of,\nthen one more per change; never reused while the user exists), when it\nbecame current (`since`) and when it stopped (`until`, absent for the\ncurrent key). `user.keys` returns it, oldest first (`KeyHistory`). The\nserver never removes or changes an entry, except that a deleted user's\nhistory is deleted with them. `PublicUser.key_index` and\n`Member.key_index` name the current key's index.\n\nA key either continues its predecessor's chain or starts a new one:\n- A successor, set by `user.update` with a new `public_key` (a\n  rotation), carries two signatures over the succession bytes below:\n  `succession_signature` by the previous private key (the previous key\n  vouches for its successor) and `public_key_signature` by the new\n  private key (proof of possession). The server verifies both against\n  the caller's current key and the new key, and refuses the rotation\n  with `bad_signature` if either does not verify (`bad_request` if\n  either is missing), before it changes anything. The proof of earlier\n  versions of this document (label `nanochat/v1 key rotation`, which\n  named neither the index nor the previous key) is no longer accepted.\n- A chain start carries neither: the key `user.complete` sets, after\n  the operator created the user or reset them (`nanochat user reset`).\n  Nothing the user signed before vouches for it. This, and only this,\n  is an unexplained key change: clients warn about it and ask the\n  person to compare fingerprints. A rotation is not an unexplained\n  change and needs no warning.\n\nWhat clients do about a changed key (this project's clients, the web\napp and the Rust client with its command line, follow it; other\nclients should):\n- A rotation that verifies along the reader's trusted chain (below) is\n  followed without asking: the reader's pin moves to the new key, a\n  quiet notice says the contact rotated, and a contact the person had\n  marked as verified stays verified.\n- An unexplained change (a chain start after the pinned key, or a\n  history that does not verify) is a loud warning showing both\n  fingerprints. It clears the verified mark. Until the person accepts\n  the new key (after comparing fingerprints with its owner), the\n  client refuses to seal anything for that contact: it sends no\n  message or file and seals no conversation name for a conversation\n  that includes them, and says why. Reading goes on: what the new key\n  signed is shown as not verified until it is accepted.\n- \"Verified\" is the person's own statement that they compared a\n  contact's fingerprint with the contact. Clients keep it per device\n  and never send it to the server.\n\nSuccession bytes: each field is a 4-byte big-endian length followed by\nthe bytes, in this order:\n1. ASCII `nanochat/v1 key succession` (26 bytes)\n2. the username (UTF-8)\n3. the new key's index, 8-byte big-endian unsigned integer (the\n   previous key's index plus one)\n4. the previous public key (SPKI DER, as stored)\n5. the new public key (SPKI DER, the exact bytes of `public_key`)\n\nFor `alice` rotating to index 1 the bytes start `00 00 00 1a\n\"nanochat/v1 key succession\" 00 00 00 05 \"alice\" 00 00 00 08 00 00 00\n00 00 00 00 01`, then the two keys, each length-prefixed.\n\nA reader verifies a history from a key it pinned (its index and\nfingerprint), in this order, and refuses the whole history on any\nfailure:\n1. The entries are in strictly increasing, consecutive index order\n   starting at the first entry's index (no gap, no repeat, no\n   reordering), and every entry but the last has `until`.\n2. The entry at the pinned index has the pinned fingerprint (a server\n   that rewrites history is caught here).\n3. Forward: for each later entry with a `succession_signature`, both\n   signatures verify over its succession bytes with the previous\n   entry's key and its own. The walk stops at the first chain start.\n4. Backward: for the pinned entry and each earlier one, while the entry\n   has a `succession_signature`, the same check makes its predecessor\n   trusted. The walk stops at a chain start.\nThe keys so reached form the reader's trusted chain of that user: every\nkey in it is the user's as surely as the pinned one. A reader who first\npinned a later key (a new member, a second device) walks backward to\nverify older messages; one who pinned an early key walks forward to\nfollow rotations without a warning. A key beyond a chain start is\ntrusted only once the person accepts it (an unexplained change).\n\nWhich key signed: `Message.sender_key_index` and\n`ConversationName.sealer_key_index` name the entry of the sender's (or\nsealer's) history whose key the server verified the signature with when\nit accepted the message or name. A reader checks that entry is in its\ntrusted chain of that user, and verifies the signature with that key\nonly. Messages and names signed with `signature_version` 2 bind the\nsigner's key into the signed bytes (below), so the signature itself says\nwhich key made it. A server that names a key outside the chain, or\nanother key than the one that signed, is detected: the entry is not in\nthe trusted chain, or the signature does not verify. A reader also\nchecks that the message's `created_at` (or name's `sealed_at`) lies\nwithin the key's `since` and `until`, and does not show as verified a\nmessage that claims a key retired before it was accepted.\n\nKeyed signatures (`signature_version` 2): the canonical message bytes\nand canonical name bytes above, with their first field replaced by two:\n1. ASCII `nanochat/v1 keyed message` (or `nanochat/v1 keyed\n   conversation name` for names)\n2. the signer's key fingerprint: SHA-256 of its SPKI DER (32 bytes)\nfollowed by every other field exactly as in version 1. A request sets\n`signature_version: 2` on `CreateMessage`, `UpdateMessage` or\n`SealedName` to use it; without it (or with 1) the version 1 bytes\napply. A server verifies the signature with the caller's current key\nunder the version named, and serves the version with the message or\nname. Clients send version 2; version 1 stays accepted for clients\nwritten before it.\n\nWhich key a wrapped key is for: `WrappedKey.key_index` (in requests)\nnames the recipient's key index the content or name key was wrapped\nfor. When present it must be the recipient's current index, else\n`members_mismatch` (the recipient rotated since the sender fetched the\nmembers: fetch again and re-seal). The server records, for every\nwrapped key, the recipient's index it was wrapped for (the current one\nwhen the request omits it), and serves it to the reader as\n`Message.key_index` and `ConversationName.key_index`, so a reader opens\nit with exactly that key of theirs, never by trying each.\n\nReaders keep their keys: after a rotation a client keeps every earlier\nprivate key of its user (its key ring), encrypted as before, so content\nand names wrapped for an earlier key still open. The server-stored\ncopy (`EncryptedPrivateKey` version 2) and key files (version 2) hold\nthe whole ring.\n\nWhat a rotation cannot undo: someone who holds a retired private key\ncan still sign bytes with it. The server refuses every request whose\nenvelope is not signed by the current key and every message or name not\nsigned by it, so they cannot post; but a dishonest server could, with\nthat key, add messages signed by it and claim they were accepted before\nthe rotation (with a `created_at` inside the key's period). Readers\ncannot tell those from genuine ones. A rotation after a key was stolen\nprotects what follows it, not what the thief and the server together\nclaim preceded it.\n\nMessages and names accepted before the server kept key history (a\nserver upgraded from an earlier version) have no `sender_key_index`\nor `sealer_key_index` (and no `key_index`): they were signed with\nversion 1 bytes by whatever key the sender had then. The history of\nevery user then starts with the key they had at the upgrade (index 0,\na chain start). A reader verifies such a message or name with the key\nat index 0 of the sender's history, and opens its wrapped key with its\nown key at index 0. When the sender had rotated before the upgrade,\nthat key did not sign it and the earlier key is gone: the reader shows\nit as signed by a key the server no longer has, not as verified.\n\nSessions of a user whose key changes end: a rotation, an operator reset\nand a deletion close every WebSocket of that user, within a second even\nwhen the change was made by another process (the operator command line,\nanother instance), with close code 4001 (the key was replaced: the\nreason says whether by a rotation or by completing again after a\nreset), 4002 (the operator reset the user; they must complete again)\nor 4003 (the user was deleted). A client whose session closed with 4001\nafter a rotation on another device has an earlier key only: it logs in\nagain (`user.sync` fetches the ring when the server holds a copy) or\nimports a key file made after the rotation.\n\n## Password-encrypted private keys\n\n`EncryptedPrivateKey`: `key = Argon2id(password, salt, m_cost, t_cost,\np_cost, 32 bytes)`, `ciphertext = AES-256-GCM(key, iv, PKCS#8 DER, aad =\n\"nanochat/v1 private-key\")`. Argon2id is version 0x13 (19, RFC 9106)\nwith no secret and no associated data, and its output is 32 bytes. The\nblob stores no Argon2 version: format `version: 1` fixes 0x13, and any\nother Argon2 version would be a new format version. The password is its\nUTF-8 bytes. The server stores the blob as it is; it never sees the\npassword. Readers refuse parameters below the floor (m_cost < 19456,\nt_cost < 2, p_cost < 1) and above the ceilings m_cost > 1048576 (1\nGiB), t_cost > 20, p_cost > 16 and m_cost * t_cost > 2097152, so a blob\ncannot make a reader spend minutes or gigabytes. The sync password is stored as an Argon2id PHC string.\n\nFormat `version: 2` holds a key ring instead of one key: the same\nArgon2id and AES-256-GCM construction with `aad = \"nanochat/v1\nprivate-key ring\"`, over the ring bytes: the number of keys as a 4-byte\nbig-endian integer, then each key's PKCS#8 DER as a 4-byte big-endian\nlength followed by the bytes, oldest first. The last key is the\ncurrent one; the others are the user's earlier keys, which a reader\npicks by fingerprint (a ring holds at most 256 keys, each at most\n16384 bytes). A ring of one key is what version 1 held. A server stores\nand serves either version as it is; a client that writes one after a\nrotation writes version 2 with every earlier key it holds. A client\nthat reads only version 1 refuses a version 2 blob (unknown version);\na client that reads version 2 reads a version 1 blob as a ring of one\nkey.\n\n## Not provided by v1\n\nForward secrecy, hiding the social graph (who talks to whom, when) from\nthe server itself, and multi-device sessions beyond using the same key on\nseveral devices.\n";
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
    /// `user.sync`: Fetches the password-encrypted private key stored on the server, for the right sync password. The only unsigned request. An unknown user, a pending user, a user without a stored key and a wrong password all get the same wrong_password (never unknown_user), and each counts as a failed attempt, so the answer does not reveal which usernames exist. After 5 failed attempts for a username within 15 minutes, user.sync answers rate_limited, before the password is checked and even for the right one, until the window has passed (a server may also limit failed attempts per client address). A successful user.sync clears the username's failed attempts (not the per-address count, which only the window clears).
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
    /// `user.keys`: A user's key history, oldest first (see Key history in the info description), to verify a rotation or an earlier key from a pinned one. A pending user (reset by the operator) has one, without a current key; an unknown user gets not_found.
    fn user_keys(
        &self,
        caller: &Self::Caller,
        payload: crate::models::BaseUser,
    ) -> impl std::future::Future<
        Output = Result<crate::models::KeyHistory, Self::Error>,
    > + Send;
    /// `user.update`: Changes the caller's display name, key pair, server-stored private key or sync password. A new public_key (a rotation) needs succession_signature and public_key_signature (see Key history) and becomes the next entry of the caller's key history; every session of the caller ends (close code 4001; the rotating client opens a new one with its new key). Members of shared conversations get event.user.key_changed when the public key changes.
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
    /// `conversation.create`: Creates a conversation between the caller (its owner) and one or more other users, with the id the caller chose and optionally a sealed name (revision 1). Every member must be a completed user; an unknown or pending one (created or reset and not yet completed) gets not_found, as does adding one with conversation.update. After the pipeline's checks (see Check order in the info description) it checks the member count (too_large) before anything else, before it looks the members up (not_found), checks the sealed name or the id (conflict).
    fn conversation_create(
        &self,
        caller: &Self::Caller,
        payload: crate::models::CreateConversation,
    ) -> impl std::future::Future<
        Output = Result<crate::models::MessageConversation, Self::Error>,
    > + Send;
    /// `conversation.update`: Sets, re-seals or removes the sealed name (any member) and/or replaces the member list (owner only; the owner stays a member; a named conversation needs its name re-sealed for the new members). The members after the change get event.conversation.updated; each removed member gets event.conversation.removed.
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
    /// `message.create`: Posts an end-to-end encrypted message; keys must name exactly the current members. A repeat (same sender, conversation and id, byte-identical sealed upload; see Retries under Message content in the info description) gets the stored message as it is now and stores nothing and sends no event; any other use of the id of an existing or deleted message is conflict.
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
        Request::UserKeys(payload) => {
            handler.user_keys(caller, payload).await.map(Response::UserKeys)
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
