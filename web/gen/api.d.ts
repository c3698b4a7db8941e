// @generated from api.yml by openapi-typescript: do not edit.
// Refresh with `node tools/gen-api.mjs` in web/.

export interface paths {
    "/references": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The server public key, protocol version, clock, freshness window and limits.
         * @description Unencrypted. Clients pin the server key on first use and warn loudly if it changes.
         */
        get: operations["get_references"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/encrypted": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send one encrypted request Body and receive the encrypted response Body. */
        post: operations["post_encrypted"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/websocket": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Upgrade to a WebSocket carrying EncryptedBody text frames and encrypted events.
         * @description The first frame must be a signed session.open request. See the info description for the frame format.
         */
        get: operations["websocket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness and readiness probe. */
        get: operations["get_health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description An encrypted Body: a response (no key) or an event (with seq), and the shape of every WebSocket frame (a request frame has the fields of EncryptedRequest). See the info description for the construction. No other fields are accepted.
         * @example {
         *       "version": 1,
         *       "key": "q83vEjRWeJA=",
         *       "iv": "AAECAwQFBgcICQoL",
         *       "data": "AAECAwQFBgcICQoLDA0ODxAREhM=",
         *       "signature": "q83vEjRWeJA="
         *     }
         */
        EncryptedBody: {
            /**
             * Format: int32
             * @description Protocol version; always 1.
             */
            version: number;
            /**
             * Format: byte
             * @description Requests only. The 32-byte AES key K, wrapped with RSA-OAEP-SHA-256 under the server public key.
             */
            key?: string;
            /**
             * Format: byte
             * @description The 12-byte AES-GCM IV (16 base64 characters, no padding).
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the JSON Body, tag appended (at least the 16-byte tag, so 24 base64 characters).
             */
            data: string;
            /**
             * Format: byte
             * @description Requests only, all but user.sync. RSA-PSS-SHA-256 signature by the user over key || iv || data.
             */
            signature?: string;
            /**
             * Format: int64
             * @description Events only. The per-socket sequence number, starting at 1, strictly increasing.
             */
            seq?: number;
        };
        /**
         * @description A request envelope, as POST /encrypted takes it: an EncryptedBody with the wrapped key, and the signature for every type but user.sync; never a seq. See the info description for the construction. No other fields are accepted.
         * @example {
         *       "version": 1,
         *       "key": "q83vEjRWeJA=",
         *       "iv": "AAECAwQFBgcICQoL",
         *       "data": "AAECAwQFBgcICQoLDA0ODxAREhM=",
         *       "signature": "q83vEjRWeJA="
         *     }
         */
        EncryptedRequest: {
            /**
             * Format: int32
             * @description Protocol version; always 1.
             */
            version: number;
            /**
             * Format: byte
             * @description The 32-byte AES key K, wrapped with RSA-OAEP-SHA-256 under the server public key.
             */
            key: string;
            /**
             * Format: byte
             * @description The 12-byte AES-GCM IV (16 base64 characters, no padding).
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the JSON Body, tag appended (at least the 16-byte tag, so 24 base64 characters).
             */
            data: string;
            /**
             * Format: byte
             * @description RSA-PSS-SHA-256 signature by the user over key || iv || data; all but user.sync.
             */
            signature?: string;
        };
        /**
         * @description An error, sent in clear for envelopes that cannot be opened and inside the encrypted response Body otherwise.
         * @example {
         *       "code": "stale",
         *       "message": "created_at is 412 s away from the server clock; the window is 300 s"
         *     }
         */
        Error: {
            code: components["schemas"]["ErrorCode"];
            /** @description A human explanation; never contains secrets. */
            message: string;
        };
        /**
         * @description The closed list of error codes.
         *     - bad_envelope: the EncryptedBody is malformed (plain, 400)
         *     - undecryptable: the key or data does not decrypt (plain, 401)
         *     - too_large: a request, file, text or member list exceeds a limit (plain 413 or encrypted)
         *     - rate_limited: too many requests or failed user.sync attempts (plain 429 or encrypted)
         *     - unavailable: the server cannot serve now (plain, 503)
         *     - session_required: a WebSocket's first frame was not session.open (plain, then the socket closes)
         *     - bad_request: the Body or its payload does not match the schema or a rule (a missing or malformed created_at, a field the schema does not list, a UUID not in lowercase hyphenated form, a payload on a type without one, session.open anywhere but a WebSocket's first frame)
         *     - unknown_type: the Body type is not in the catalogue
         *     - stale: created_at is outside the freshness window
         *     - replayed: this request_id was already accepted from this user
         *     - unknown_user: no completed user has this username (never from user.sync, which answers wrong_password for unknown and pending users alike, so it cannot be used to probe for usernames)
         *     - bad_signature: the signature is missing or does not verify
         *     - invalid_token: the complete token is unknown, expired or used
         *     - invalid_key: a public key is malformed or of an unaccepted size
         *     - wrong_password: the sync password is wrong, no private key is stored, or (user.sync only) the user is unknown or pending
         *     - not_found: no such conversation, message or user visible to the caller
         *     - forbidden: the caller may see the object but not do this to it
         *     - conflict: the object already exists (conversation or message id; a message.create that repeats the create of its message is answered with that message instead, and a deleted message's id stays taken), or a sealed name does not carry the next name revision; a user who already completed gets invalid_token from user.complete (the token was used), not conflict
         *     - members_mismatch: wrapped keys (message content or a sealed name) do not name exactly the current members once each (a member named twice is a mismatch too), or a named conversation changes members without re-sealing its name
         *     - internal: an unexpected server fault; details are in the server log only
         * @example not_found
         * @enum {string}
         */
        ErrorCode: "bad_envelope" | "undecryptable" | "too_large" | "rate_limited" | "unavailable" | "session_required" | "bad_request" | "unknown_type" | "stale" | "replayed" | "unknown_user" | "bad_signature" | "invalid_token" | "invalid_key" | "wrong_password" | "not_found" | "forbidden" | "conflict" | "members_mismatch" | "internal";
        /**
         * @description What a client needs before its first request, from GET /references.
         * @example {
         *       "protocol_version": 1,
         *       "server_public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *       "server_fingerprint": "3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d",
         *       "server_time": "2026-11-25T09:00:00Z",
         *       "freshness_window_seconds": 300,
         *       "limits": {
         *         "max_body_bytes": 16777216,
         *         "max_file_bytes": 8388608,
         *         "max_content_bytes": 65536,
         *         "max_members": 100,
         *         "max_page_size": 100,
         *         "max_conversations": 1000
         *       }
         *     }
         */
        References: {
            /**
             * Format: int32
             * @description The protocol version the server speaks; 1.
             */
            protocol_version: number;
            /**
             * Format: byte
             * @description The server public key, DER SubjectPublicKeyInfo.
             */
            server_public_key: string;
            /** @description SHA-256 of the SubjectPublicKeyInfo DER, 16 space-separated groups of 4 hex digits. */
            server_fingerprint: string;
            /**
             * Format: date-time
             * @description The server clock, so a client can warn about its own clock skew.
             */
            server_time: string;
            /**
             * Format: int64
             * @description How far created_at may be from the receiver's clock, in seconds.
             */
            freshness_window_seconds: number;
            limits: components["schemas"]["Limits"];
        };
        /**
         * @description Server limits; requests over them get too_large. The limits on a message's parts are reachable within max_body_bytes: the envelope's data is base64 of the Body JSON, in which the attachment and content are base64 again, so each ciphertext byte costs about 16/9 bytes of envelope. A server announces only limits for which max_body_bytes >= 16/9 * (max_file_bytes + max_content_bytes + 1024 * max_members) + 16384 (1024 bytes per member cover a wrapped key of a 4096-bit RSA key and its username, 16384 the rest of the Body and the envelope), so a message with an attachment of max_file_bytes, content of max_content_bytes and a key for each of max_members members fits in one request; roughly, max_file_bytes is at most 9/16 of max_body_bytes. With the defaults: 16 MiB bodies, 8 MiB files.
         * @example {
         *       "max_body_bytes": 16777216,
         *       "max_file_bytes": 8388608,
         *       "max_content_bytes": 65536,
         *       "max_members": 100,
         *       "max_page_size": 100,
         *       "max_conversations": 1000
         *     }
         */
        Limits: {
            /**
             * Format: int64
             * @description Largest EncryptedBody accepted, in bytes of JSON.
             */
            max_body_bytes: number;
            /**
             * Format: int64
             * @description Largest attachment ciphertext, in bytes; at most about 9/16 of max_body_bytes (see Limits).
             */
            max_file_bytes: number;
            /**
             * Format: int64
             * @description Largest message content ciphertext, in bytes.
             */
            max_content_bytes: number;
            /**
             * Format: int64
             * @description Most members in one conversation, the owner included.
             */
            max_members: number;
            /**
             * Format: int64
             * @description Most messages in one page of history.
             */
            max_page_size: number;
            /**
             * Format: int64
             * @description Most conversations one user may be a member of. A conversation.create or a conversation.update that would add a member who is already in this many gets too_large, naming them.
             */
            max_conversations: number;
        };
        /**
         * @description The answer of GET /health.
         * @example {
         *       "status": "ok",
         *       "version": "0.1.0"
         *     }
         */
        Health: {
            /** @description Always "ok" in a 200 answer. */
            status: string;
            /** @description The server's software version. */
            version: string;
        };
        /**
         * @description The plaintext inside every EncryptedBody, as UTF-8 JSON. Closed: no
         *     other fields (see "The Body" in the info description).
         *     Requests carry type, created_at, request_id, username and, where the
         *     type has one, payload (schema per type in x-nanochat-bodies).
         *     Responses echo type and request_id, carry the server's created_at, and
         *     either payload (the type's response schema) or error. Events carry an
         *     event.* type (x-nanochat-events), created_at, seq and payload.
         * @example {
         *       "type": "conversation.get",
         *       "created_at": "2026-11-25T09:00:00Z",
         *       "request_id": "6f1c1c1e-6c1b-4f0e-9a59-3c1f4d5e6a7b",
         *       "username": "alice",
         *       "payload": {
         *         "id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90"
         *       }
         *     }
         */
        Body: {
            /** @description The body type, a key of x-nanochat-bodies or x-nanochat-events. */
            type: string;
            /**
             * Format: date-time
             * @description RFC 3339 date-time at which the sender made this Body, written in UTC; missing or malformed is bad_request.
             */
            created_at: string;
            /**
             * Format: uuid
             * @description Requests, random and fresh per request, lowercase hyphenated; responses echo it.
             */
            request_id?: string;
            /** @description Requests only, the user speaking (1 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit). */
            username?: string;
            /**
             * Format: int64
             * @description Events only, equal to the EncryptedBody seq.
             */
            seq?: number;
            /** @description The type's payload (requests, events) or response (responses). A request of a type without payload omits it or sends null or {}. */
            payload?: {
                [key: string]: unknown;
            };
            error?: components["schemas"]["Error"];
        };
        /**
         * @description The payload of a response that carries nothing but success.
         * @example {}
         */
        Empty: Record<string, never>;
        /**
         * @description A private key (PKCS#8 DER, version 1) or a key ring (version 2) encrypted with a password. key = Argon2id version 0x13 (password, salt, m_cost KiB, t_cost, p_cost, no secret, no associated data) to 32 bytes; ciphertext = AES-256-GCM(key, iv, DER, aad = "nanochat/v1 private-key") for version 1, AES-256-GCM(key, iv, ring bytes, aad = "nanochat/v1 private-key ring") for version 2 (see Password-encrypted private keys in the info description). The format version fixes the Argon2 version, so it is not stored.
         * @example {
         *       "version": 1,
         *       "kdf": "argon2id",
         *       "m_cost": 19456,
         *       "t_cost": 2,
         *       "p_cost": 1,
         *       "salt": "AAECAwQFBgcICQoLDA0ODw==",
         *       "iv": "AAECAwQFBgcICQoL",
         *       "ciphertext": "yv66vg=="
         *     }
         */
        EncryptedPrivateKey: {
            /**
             * Format: int32
             * @description Format version; 1 (one key) or 2 (a key ring), both with Argon2id version 0x13 and a 32-byte key.
             */
            version: number;
            /** @description Always "argon2id". */
            kdf: string;
            /**
             * Format: int32
             * @description Argon2id memory in KiB; at least 19456.
             */
            m_cost: number;
            /**
             * Format: int32
             * @description Argon2id passes; at least 2.
             */
            t_cost: number;
            /**
             * Format: int32
             * @description Argon2id lanes; at least 1.
             */
            p_cost: number;
            /**
             * Format: byte
             * @description 16 random bytes.
             */
            salt: string;
            /**
             * Format: byte
             * @description 12 random bytes.
             */
            iv: string;
            /**
             * Format: byte
             * @description The encrypted PKCS#8 DER, tag appended.
             */
            ciphertext: string;
        };
        /**
         * @description Payload of user.complete. With "store private key on server", private_key and sync_password are both set.
         * @example {
         *       "token": "Jq3b0y1H2m5c8rWnKxZt4pQeVs7uLdAaFgHjKlMnOpQ",
         *       "display_name": "Alice",
         *       "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA"
         *     }
         */
        CompleteUser: {
            /**
             * Format: password
             * @description The complete token printed by `nanochat user create`.
             */
            token: string;
            /** @description The name shown to others, 1 to 64 characters. */
            display_name: string;
            /**
             * Format: byte
             * @description The new public key, DER SubjectPublicKeyInfo; the request is signed with its private key.
             */
            public_key: string;
            private_key?: components["schemas"]["EncryptedPrivateKey"];
            /**
             * Format: password
             * @description Only with private_key. The server keeps an Argon2id hash of it; never the private key password.
             */
            sync_password?: string;
        };
        /**
         * @description Payload of user.sync; the username is the Body's.
         * @example {
         *       "sync_password": "correct horse battery staple"
         *     }
         */
        SyncUser: {
            /**
             * Format: password
             * @description The sync password chosen at user.complete or user.update.
             */
            sync_password: string;
        };
        /**
         * @description Response of user.sync; the frontend decrypts private_key with the user's password.
         * @example {
         *       "username": "alice",
         *       "display_name": "Alice",
         *       "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *       "private_key": {
         *         "version": 1,
         *         "kdf": "argon2id",
         *         "m_cost": 19456,
         *         "t_cost": 2,
         *         "p_cost": 1,
         *         "salt": "AAECAwQFBgcICQoLDA0ODw==",
         *         "iv": "AAECAwQFBgcICQoL",
         *         "ciphertext": "yv66vg=="
         *       }
         *     }
         */
        PrivateKeyUser: {
            /** @description The user. */
            username: string;
            /** @description The user's display name. */
            display_name: string;
            /**
             * Format: byte
             * @description The user's public key, DER SubjectPublicKeyInfo.
             */
            public_key: string;
            private_key: components["schemas"]["EncryptedPrivateKey"];
        };
        /**
         * @description Payload of user.update; every field is optional. A new public_key needs succession_signature and public_key_signature (without either, bad_request; with one that does not verify, bad_signature); a new private_key needs a sync_password unless one is already set. A rotation without a new private_key removes a stored private key (and the sync password), which would not hold the new key.
         * @example {
         *       "display_name": "Alice L."
         *     }
         */
        UpdateUser: {
            /** @description New display name, 1 to 64 characters. */
            display_name?: string;
            /**
             * Format: byte
             * @description New public key, DER SubjectPublicKeyInfo. The request itself is signed with the current key.
             */
            public_key?: string;
            /**
             * Format: byte
             * @description RSA-PSS by the new private key over the succession bytes (proof of possession; see Key history in the info description).
             */
            public_key_signature?: string;
            /**
             * Format: byte
             * @description RSA-PSS by the current (previous) private key over the succession bytes, vouching for the new key (see Key history in the info description).
             */
            succession_signature?: string;
            private_key?: components["schemas"]["EncryptedPrivateKey"];
            /** @description Delete the server-stored private key and the sync password. */
            remove_private_key?: boolean;
            /**
             * Format: password
             * @description New sync password.
             */
            sync_password?: string;
        };
        /**
         * @description Names one user.
         * @example {
         *       "username": "bob"
         *     }
         */
        BaseUser: {
            /** @description The username. */
            username: string;
        };
        /**
         * @description What anyone may know of a user.
         * @example {
         *       "username": "bob",
         *       "display_name": "Bob",
         *       "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *       "fingerprint": "3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d",
         *       "key_index": 0
         *     }
         */
        PublicUser: {
            /** @description The username, lowercase letters, digits, '.', '_' and '-', 1 to 32 characters. */
            username: string;
            /** @description The display name. */
            display_name: string;
            /**
             * Format: byte
             * @description The public key, DER SubjectPublicKeyInfo.
             */
            public_key: string;
            /** @description SHA-256 of the public key DER, grouped hex; clients pin it. */
            fingerprint: string;
            /**
             * Format: int64
             * @description The index of this key in the user's key history (see Key history in the info description).
             */
            key_index: number;
        };
        /**
         * @description Response of user.keys; every key the user has had, oldest first.
         * @example {
         *       "username": "bob",
         *       "keys": [
         *         {
         *           "index": 0,
         *           "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *           "fingerprint": "3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d",
         *           "since": "2026-11-25T09:00:00Z"
         *         }
         *       ]
         *     }
         */
        KeyHistory: {
            /** @description The user. */
            username: string;
            /** @description The entries in index order, each index one more than the one before. The last is the current key unless the user is pending (reset by the operator), when every entry has until. */
            keys: components["schemas"]["KeyRecord"][];
        };
        /**
         * @description One entry of a key history.
         * @example {
         *       "index": 1,
         *       "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *       "fingerprint": "3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d",
         *       "since": "2026-11-26T09:00:00Z",
         *       "succession_signature": "q83vEjRWeJA=",
         *       "public_key_signature": "q83vEjRWeJA="
         *     }
         */
        KeyRecord: {
            /**
             * Format: int64
             * @description The entry's index, 0 for the first key the server knew of.
             */
            index: number;
            /**
             * Format: byte
             * @description The key, DER SubjectPublicKeyInfo.
             */
            public_key: string;
            /** @description SHA-256 of the key DER, grouped hex. */
            fingerprint: string;
            /**
             * Format: date-time
             * @description When it became the user's key.
             */
            since: string;
            /**
             * Format: date-time
             * @description When it stopped being the user's key (the next entry's since, or the operator's reset); absent for the current key.
             */
            until?: string;
            /**
             * Format: byte
             * @description RSA-PSS by the previous entry's key over the succession bytes; absent for a chain start (a key set by user.complete).
             */
            succession_signature?: string;
            /**
             * Format: byte
             * @description RSA-PSS by this key over the same succession bytes; present exactly when succession_signature is.
             */
            public_key_signature?: string;
        };
        /**
         * @description Payload of conversation.create.
         * @example {
         *       "id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "members": [
         *         "bob",
         *         "carol"
         *       ]
         *     }
         */
        CreateConversation: {
            /**
             * Format: uuid
             * @description A fresh random conversation id chosen by the caller (it is signed into the name); conflict if taken.
             */
            id: string;
            name?: components["schemas"]["SealedName"];
            /** @description The other members' usernames (one for a 1:1 conversation, more for a group); the caller is added as owner. */
            members: string[];
        };
        /**
         * @description Payload of conversation.update; every field but id is optional.
         * @example {
         *       "id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "members": [
         *         "alice",
         *         "bob",
         *         "dave"
         *       ],
         *       "remove_name": true
         *     }
         */
        Conversation: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            id: string;
            name?: components["schemas"]["SealedName"];
            /** @description Removes the name (any member); not together with name. Increments name_revision, also when the conversation has no name. */
            remove_name?: boolean;
            /** @description Owner only. The complete new member list, the owner included. A named conversation needs name, sealed for this list, or remove_name. */
            members?: string[];
        };
        /**
         * @description A conversation name sealed by the caller for the current members (see "Conversation names" in the info description).
         * @example {
         *       "revision": 1,
         *       "iv": "AAECAwQFBgcICQoL",
         *       "ciphertext": "yv66vg==",
         *       "keys": [
         *         {
         *           "username": "alice",
         *           "key": "q83vEjRWeJA="
         *         }
         *       ],
         *       "signature": "q83vEjRWeJA="
         *     }
         */
        SealedName: {
            /**
             * Format: int64
             * @description The conversation's name_revision plus one (1 in conversation.create); signed.
             */
            revision: number;
            /**
             * Format: byte
             * @description 12-byte AES-GCM IV.
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the UTF-8 name under the name key, tag appended (at most 128 characters of plaintext).
             */
            ciphertext: string;
            /** @description The name key wrapped for every current member that has a public key, the caller included. */
            keys: components["schemas"]["WrappedKey"][];
            /**
             * Format: byte
             * @description RSA-PSS by the caller over the canonical name bytes.
             */
            signature: string;
            /**
             * Format: int32
             * @description Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
             */
            signature_version?: number;
        };
        /**
         * @description A sealed conversation name as one reader sees it, with only the name key wrapped for that reader.
         * @example {
         *       "revision": 1,
         *       "sealed_by": "alice",
         *       "sealed_at": "2026-11-25T09:00:00Z",
         *       "iv": "AAECAwQFBgcICQoL",
         *       "ciphertext": "yv66vg==",
         *       "key": "q83vEjRWeJA=",
         *       "recipients": [
         *         {
         *           "username": "alice",
         *           "key_digest": "q83vEjRWeJA="
         *         }
         *       ],
         *       "signature": "q83vEjRWeJA=",
         *       "reseal": false
         *     }
         */
        ConversationName: {
            /**
             * Format: int64
             * @description The signed revision.
             */
            revision: number;
            /** @description The member who sealed it; verify the signature with their public key. */
            sealed_by: string;
            /**
             * Format: date-time
             * @description When the server accepted it.
             */
            sealed_at: string;
            /**
             * Format: byte
             * @description 12-byte AES-GCM IV.
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the UTF-8 name.
             */
            ciphertext: string;
            /**
             * Format: byte
             * @description The name key wrapped for the reader; absent when the server holds none for them (they were not a member with a key when it was sealed, or were reset).
             */
            key?: string;
            /** @description Every recipient with the digest of its wrapped key, as signed. */
            recipients: components["schemas"]["RecipientDigest"][];
            /**
             * Format: byte
             * @description RSA-PSS by the sealer over the canonical name bytes.
             */
            signature: string;
            /**
             * Format: int32
             * @description The signed bytes the signature covers, 1 or 2 (see Key history in the info description); absent means 1.
             */
            signature_version?: number;
            /**
             * Format: int64
             * @description The index of the sealer's key the server verified the signature with; absent for a name sealed before the server kept key history.
             */
            sealer_key_index?: number;
            /**
             * Format: int64
             * @description The index of the reader's key that key is wrapped for; absent with key, or for a key recorded before the server kept key history.
             */
            key_index?: number;
            /** @description The server's hint that the name should be re-sealed: a current member with a key holds no key wrapped for that key, or the sealer has left or changed key (see Re-sealing in the info description). Not authenticated; it only tells clients when to act. */
            reseal: boolean;
        };
        /**
         * @description Names one conversation.
         * @example {
         *       "id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90"
         *     }
         */
        BaseConversation: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            id: string;
        };
        /**
         * @description A member of a conversation, with the public key to wrap content keys for.
         * @example {
         *       "username": "bob",
         *       "display_name": "Bob",
         *       "public_key": "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA",
         *       "fingerprint": "3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d",
         *       "owner": false,
         *       "joined_at": "2026-11-25T09:00:00Z"
         *     }
         */
        Member: {
            /** @description The member. */
            username: string;
            /** @description The member's display name. */
            display_name: string;
            /**
             * Format: byte
             * @description The member's public key, DER SubjectPublicKeyInfo; empty while the member, reset by the operator, has not completed again (wrap no key for them then).
             */
            public_key: string;
            /** @description SHA-256 of the public key DER, grouped hex; empty when public_key is. */
            fingerprint: string;
            /**
             * Format: int64
             * @description The index of public_key in the member's key history; absent when public_key is empty.
             */
            key_index?: number;
            /** @description Whether this member owns the conversation. */
            owner: boolean;
            /**
             * Format: date-time
             * @description When the member joined.
             */
            joined_at: string;
        };
        /**
         * @description A conversation as its members see it, with its members and a page of messages (the latest page for conversation.get, the latest message for conversation.list).
         * @example {
         *       "id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "name_revision": 0,
         *       "owner": "alice",
         *       "created_at": "2026-11-25T09:00:00Z",
         *       "updated_at": "2026-11-25T09:00:00Z",
         *       "members": [],
         *       "messages": []
         *     }
         */
        MessageConversation: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            id: string;
            name?: components["schemas"]["ConversationName"];
            /**
             * Format: int64
             * @description How many times the name was set, re-sealed or removed; the next sealed name carries this plus one.
             */
            name_revision: number;
            /** @description The owner's username. */
            owner: string;
            /**
             * Format: date-time
             * @description Creation time.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description Last change to the conversation or its messages.
             */
            updated_at: string;
            /** @description Current members, ordered by username. */
            members: components["schemas"]["Member"][];
            /** @description Newest first. */
            messages: components["schemas"]["Message"][];
            /** @description Pass as ListMessages.before to fetch older messages; absent when there are none. */
            next_cursor?: string;
        };
        /**
         * @description Response of conversation.list.
         * @example {
         *       "items": []
         *     }
         */
        List: {
            /** @description The caller's conversations, most recently updated first. */
            items: components["schemas"]["MessageConversation"][];
        };
        /**
         * @description The content key wrapped for one member.
         * @example {
         *       "username": "bob",
         *       "key": "q83vEjRWeJA=",
         *       "key_index": 0
         *     }
         */
        WrappedKey: {
            /** @description The member. */
            username: string;
            /**
             * Format: byte
             * @description RSA-OAEP-SHA-256 of the 32-byte content key under the member's public key.
             */
            key: string;
            /**
             * Format: int64
             * @description The index of the member's key this is wrapped for; when present it must be the member's current index (members_mismatch otherwise). See Key history in the info description.
             */
            key_index?: number;
        };
        /**
         * @description An attachment encrypted under the message content key.
         * @example {
         *       "iv": "AAECAwQFBgcICQoL",
         *       "data": "yv66vg=="
         *     }
         */
        SealedAttachment: {
            /**
             * Format: byte
             * @description 12-byte AES-GCM IV.
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the file bytes, tag appended.
             */
            data: string;
        };
        /**
         * @description Payload of message.create. If there is no attachment the content must hold a text (checked by readers; the server cannot see it).
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "id": "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b",
         *       "content_iv": "AAECAwQFBgcICQoL",
         *       "content": "yv66vg==",
         *       "keys": [
         *         {
         *           "username": "alice",
         *           "key": "q83vEjRWeJA="
         *         }
         *       ],
         *       "signature": "q83vEjRWeJA="
         *     }
         */
        CreateMessage: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /**
             * Format: uuid
             * @description A fresh random message id chosen by the sender (it is signed). A retry of a create whose answer was lost sends the same id with the same sealed content.
             */
            id: string;
            /**
             * Format: byte
             * @description 12-byte IV of content.
             */
            content_iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the content JSON under the content key.
             */
            content: string;
            attachment?: components["schemas"]["SealedAttachment"];
            /** @description The content key wrapped for every current member that has a public key, the sender included. */
            keys: components["schemas"]["WrappedKey"][];
            /**
             * Format: byte
             * @description RSA-PSS by the sender over the canonical message bytes.
             */
            signature: string;
            /**
             * Format: int32
             * @description Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
             */
            signature_version?: number;
        };
        /**
         * @description Payload of message.update; the whole content is replaced under a fresh content key.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "id": "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b",
         *       "content_iv": "AAECAwQFBgcICQoL",
         *       "content": "yv66vg==",
         *       "keys": [
         *         {
         *           "username": "alice",
         *           "key": "q83vEjRWeJA="
         *         }
         *       ],
         *       "signature": "q83vEjRWeJA="
         *     }
         */
        UpdateMessage: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /**
             * Format: uuid
             * @description The message to replace.
             */
            id: string;
            /**
             * Format: byte
             * @description 12-byte IV of content.
             */
            content_iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the new content JSON.
             */
            content: string;
            attachment?: components["schemas"]["SealedAttachment"];
            /** @description The new content key wrapped for every current member. */
            keys: components["schemas"]["WrappedKey"][];
            /**
             * Format: byte
             * @description RSA-PSS by the sender over the canonical message bytes.
             */
            signature: string;
            /**
             * Format: int32
             * @description Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
             */
            signature_version?: number;
        };
        /**
         * @description Names one message.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "id": "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b"
         *     }
         */
        BaseMessage: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /**
             * Format: uuid
             * @description The message.
             */
            id: string;
        };
        /**
         * @description One signed recipient of a message.
         * @example {
         *       "username": "bob",
         *       "key_digest": "q83vEjRWeJA="
         *     }
         */
        RecipientDigest: {
            /** @description The recipient. */
            username: string;
            /**
             * Format: byte
             * @description SHA-256 of the key wrapped for this recipient.
             */
            key_digest: string;
        };
        /**
         * @description What a listed message says of its attachment; the bytes come from message.attachment.
         * @example {
         *       "iv": "AAECAwQFBgcICQoL",
         *       "size": 4,
         *       "digest": "q83vEjRWeJA="
         *     }
         */
        AttachmentInfo: {
            /**
             * Format: byte
             * @description 12-byte IV of the attachment.
             */
            iv: string;
            /**
             * Format: int64
             * @description Length of the attachment ciphertext in bytes.
             */
            size: number;
            /**
             * Format: byte
             * @description SHA-256 of the attachment ciphertext (it is signed).
             */
            digest: string;
        };
        /**
         * @description A message as one reader sees it, with only the content key wrapped for that reader.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "id": "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b",
         *       "sender": "alice",
         *       "created_at": "2026-11-25T09:00:00Z",
         *       "content_iv": "AAECAwQFBgcICQoL",
         *       "content": "yv66vg==",
         *       "key": "q83vEjRWeJA=",
         *       "recipients": [
         *         {
         *           "username": "alice",
         *           "key_digest": "q83vEjRWeJA="
         *         }
         *       ],
         *       "signature": "q83vEjRWeJA=",
         *       "cursor": "42"
         *     }
         */
        Message: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /**
             * Format: uuid
             * @description The message.
             */
            id: string;
            /** @description The sender's username; verify the signature with their public key. */
            sender: string;
            /**
             * Format: date-time
             * @description When the server accepted the message.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description When it was last edited, if ever.
             */
            edited_at?: string;
            /**
             * Format: byte
             * @description 12-byte IV of content.
             */
            content_iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the content JSON.
             */
            content: string;
            attachment?: components["schemas"]["AttachmentInfo"];
            /**
             * Format: byte
             * @description The content key wrapped for the reader.
             */
            key: string;
            /** @description Every recipient with the digest of its wrapped key, as signed. */
            recipients: components["schemas"]["RecipientDigest"][];
            /**
             * Format: byte
             * @description RSA-PSS by the sender over the canonical message bytes.
             */
            signature: string;
            /**
             * Format: int32
             * @description The signed bytes the signature covers, 1 or 2 (see Key history in the info description); absent means 1.
             */
            signature_version?: number;
            /**
             * Format: int64
             * @description The index of the sender's key the server verified the signature with; absent for a message accepted before the server kept key history (see Key history in the info description).
             */
            sender_key_index?: number;
            /**
             * Format: int64
             * @description The index of the reader's key that key is wrapped for; absent for a key recorded before the server kept key history.
             */
            key_index?: number;
            /** @description Stable position of this message in the history (pass as ListMessages.before). An opaque string issued by the server; clients never build, parse or compare cursors. */
            cursor?: string;
        };
        /**
         * @description Payload of message.list.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "limit": 50
         *     }
         */
        ListMessages: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /** @description A cursor this server issued (Message.cursor or next_cursor), passed back unchanged; absent for the newest page. Cursors are opaque: a string the server could not have issued gets bad_request; one of the server's form that it did not issue for this conversation (from another conversation, or made up) is not an error and gets this conversation's messages older than that position, possibly none. A cursor never reveals another conversation's messages. */
            before?: string;
            /**
             * Format: int64
             * @description Page size, 1 to limits.max_page_size (default 50).
             */
            limit?: number;
        };
        /**
         * @description Response of message.list.
         * @example {
         *       "messages": []
         *     }
         */
        MessagePage: {
            /** @description Newest first. */
            messages: components["schemas"]["Message"][];
            /** @description Pass as before to fetch the next older page; absent at the start of history. */
            next_cursor?: string;
        };
        /**
         * @description Response of message.attachment.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "message_id": "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b",
         *       "iv": "AAECAwQFBgcICQoL",
         *       "data": "yv66vg=="
         *     }
         */
        Attachment: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /**
             * Format: uuid
             * @description The message.
             */
            message_id: string;
            /**
             * Format: byte
             * @description 12-byte IV.
             */
            iv: string;
            /**
             * Format: byte
             * @description AES-256-GCM ciphertext of the file bytes under the message content key.
             */
            data: string;
        };
        /**
         * @description Response of session.open; events follow on this socket.
         * @example {
         *       "ping_interval_seconds": 30
         *     }
         */
        SessionOpened: {
            /**
             * Format: int64
             * @description How often the server pings; a socket silent for three intervals is closed.
             */
            ping_interval_seconds: number;
        };
        /**
         * @description Payload of event.conversation.left.
         * @example {
         *       "conversation_id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
         *       "username": "carol"
         *     }
         */
        MemberLeft: {
            /**
             * Format: uuid
             * @description The conversation.
             */
            conversation_id: string;
            /** @description Who left. */
            username: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    get_references: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The server's references. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["References"];
                };
            };
        };
    };
    post_encrypted: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EncryptedRequest"];
            };
        };
        responses: {
            /** @description The encrypted response Body (success or an encrypted Error). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EncryptedBody"];
                };
            };
            /** @description The envelope is malformed: not JSON, bad base64, missing key, unsupported version (code bad_envelope). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The envelope cannot be opened: the key does not unwrap under the server key or the data does not decrypt (code undecryptable). Fetch /references again. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request is larger than limits.max_body_bytes (code too_large). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Too many requests from this peer address (code rate_limited). Nothing was read or done; the same envelope may be sent again later. Envelopes that cost the server RSA work and then fail to authenticate may count for more than one against the address's budget. The server may hold this answer (1 s by default) before sending it, and sends `Retry-After` in seconds; when too many refusals are held at once it answers at once and closes the connection. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The server failed before it could encrypt an answer (code internal), for example while unwrapping the key or sealing the response. Whether the request took effect is unknown; a retry with a fresh request_id may repeat it. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    websocket: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching protocols to a WebSocket. */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not a WebSocket handshake (code bad_request); the message names what is missing (`Connection` with `upgrade`, `Upgrade` of `websocket`, `Sec-WebSocket-Version` of 13, `Sec-WebSocket-Key`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    get_health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The server is up and its database answers. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description The database does not answer (code unavailable). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
