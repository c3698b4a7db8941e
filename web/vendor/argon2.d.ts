// Types for the vendored hash-wasm bundle (argon2.js): only what it exports.

/** Options of hash-wasm's `argon2id`. */
export interface Argon2Options {
  password: string | Uint8Array;
  salt: string | Uint8Array;
  iterations: number;
  parallelism: number;
  memorySize: number;
  hashLength: number;
  outputType: 'binary';
  secret?: string | Uint8Array;
}

/** Argon2id v0x13; with `outputType: 'binary'` resolves to the raw hash. */
export function argon2id(options: Argon2Options): Promise<Uint8Array>;
