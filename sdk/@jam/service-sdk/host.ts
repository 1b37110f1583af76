// Raw host-call bindings of the JAM Prototype's Wasm ABI (docs/service-abi.md, "Host functions";
// signatures from HOST_CALLS in libs/sandbox/src/host-calls/host-call.registry.ts). Names follow
// GP 0.7.2 appendix B. Every pointer and length is an i32 read as unsigned; every result is an i64
// carrying a u64: a value or one of the result codes in ./codes.ts. Prefer the typed helpers in
// ./index.ts; these are exported for services that manage their own buffers.

/** `gas() -> i64`: gas remaining after this call's own charge. Refine and accumulate. */
@external("jam", "gas")
export declare function gas(): i64;

/**
 * `fetch(kind, index, out_ptr, offset, max_len) -> i64`: windowed copy of the object `kind`
 * names (FetchKind in ./codes.ts) into `[out_ptr, out_ptr + n)`; returns the object's full length
 * in bytes, NONE for an unknown kind / index or a kind of the other entry point, OOB when the
 * destination is outside memory (nothing copied).
 */
@external("jam", "fetch")
export declare function fetch(kind: i32, index: i32, out_ptr: usize, offset: i32, max_len: i32): i64;

/**
 * `lookup(hash_ptr, out_ptr, offset, max_len) -> i64`: windowed copy of the preimage whose
 * Blake2b-256 is the 32 bytes at `hash_ptr`, among the work item's extrinsics (refine); its
 * length, NONE if absent, OOB if a range is outside memory.
 */
@external("jam", "lookup")
export declare function lookup(hash_ptr: usize, out_ptr: usize, offset: i32, max_len: i32): i64;

/**
 * `read(key_ptr, key_len, out_ptr, offset, max_len) -> i64`: accumulate only (refine gets WHAT).
 * Windowed copy of this service's storage value at the key; its length, NONE if absent.
 */
@external("jam", "read")
export declare function read(key_ptr: usize, key_len: i32, out_ptr: usize, offset: i32, max_len: i32): i64;

/**
 * `write(key_ptr, key_len, val_ptr, val_len) -> i64`: accumulate only (refine gets WHAT). Sets
 * the value (`val_len` 0 deletes); returns the previous length or NONE; WHAT for a key over 256
 * bytes, FULL for a value over 1 MiB or past the write-set cap / storage quota, OOB for a range
 * outside memory.
 */
@external("jam", "write")
export declare function write(key_ptr: usize, key_len: i32, val_ptr: usize, val_len: i32): i64;

/**
 * `log(level, msg_ptr, msg_len) -> i64`: records `[level] message` (UTF-8, at most 1024 bytes,
 * 64 lines per job). Kept beside the work report and printed by `jam run`; returns OK.
 */
@external("jam", "log")
export declare function log(level: i32, msg_ptr: usize, msg_len: i32): i64;
