import { createBLAKE2b, type IHasher } from 'hash-wasm';
import type { Hash } from './work-types';

/** A streaming Blake2b-256 hasher; `digest()` ends it (further calls throw). */
export interface Blake2b256Hasher {
  update(chunk: Uint8Array): void;
  /** The 32-byte digest of everything passed to `update`. */
  digest(): Hash;
}

let shared: IHasher | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads hash-wasm's Blake2b WebAssembly module. Idempotent and safe to call concurrently;
 * call it once at boot (and in test setup) before any sync hashing function.
 */
export function initHashing(): Promise<void> {
  loading ??= createBLAKE2b(256).then(
    (h) => {
      shared = h;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

function hasher(): IHasher {
  if (shared === undefined) throw new Error('hashing is not initialised: await initHashing() before hashing');
  return shared;
}

/**
 * Blake2b-256 (RFC 7693, 32-byte output, no key), the hash H of GP 0.7.2 section 3.8.
 * Synchronous; requires `initHashing()` to have resolved.
 *
 * @throws Error when hashing is not initialised.
 */
export function blake2b256(data: Uint8Array): Hash {
  return hasher().init().update(data).digest('binary');
}

/**
 * A new, independent streaming Blake2b-256 hasher. Each instance keeps its own saved WASM
 * state and restores it around every `update`, so any number of hashers (concurrent
 * uploads) can be interleaved without mixing data. Requires `initHashing()`.
 *
 * @throws Error when hashing is not initialised, or on use after `digest()`.
 */
export function createBlake2b256(): Blake2b256Hasher {
  let state: Uint8Array | undefined = hasher().init().save();
  const live = (): Uint8Array => {
    if (state === undefined) throw new Error('Blake2b-256 hasher already finalised');
    return state;
  };
  return {
    update(chunk: Uint8Array): void {
      const h = hasher();
      h.load(live());
      h.update(chunk);
      state = h.save();
    },
    digest(): Hash {
      const h = hasher();
      h.load(live());
      state = undefined;
      return h.digest('binary');
    },
  };
}
