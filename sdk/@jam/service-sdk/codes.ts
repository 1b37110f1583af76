// Constants of the JAM Prototype's Wasm ABI (docs/service-abi.md). Result codes: GP 0.7.2 appendix B.

/** Host-call result: success. */
export const OK: u64 = 0;
/** Host-call result: the item does not exist (2^64 - 1). */
export const NONE: u64 = 0xffffffffffffffff;
/** Host-call result: name unknown or not allowed here, e.g. `read` in refine (2^64 - 2). */
export const WHAT: u64 = 0xfffffffffffffffe;
/** Host-call result: a memory range is outside the guest's memory (2^64 - 3). */
export const OOB: u64 = 0xfffffffffffffffd;
/** Host-call result: index unknown (2^64 - 4). */
export const WHO: u64 = 0xfffffffffffffffc;
/** Host-call result: storage full: value too large, write-set cap or storage quota (2^64 - 5). */
export const FULL: u64 = 0xfffffffffffffffb;
/** Host-call result: the call is not valid here (2^64 - 9). */
export const HUH: u64 = 0xfffffffffffffff7;

/** `fetch` kinds (docs/service-abi.md, `fetch`). */
export namespace FetchKind {
  /** This work item's payload (refine only). */
  export const PAYLOAD: i32 = 0;
  /** Accumulate operand `index`'s output bytes (NONE unless its result is ok). */
  export const OPERAND_OUTPUT: i32 = 1;
  /** Accumulate operand `index`'s result code as 1 byte (WorkResult below). */
  export const OPERAND_RESULT: i32 = 2;
}

/** WorkExecResult codes as `fetch` kind 2 gives them (GP 0.7.2; docs/architecture.md section 2). */
export namespace WorkResult {
  export const OK: u8 = 0;
  export const OUT_OF_GAS: u8 = 1;
  export const PANIC: u8 = 2;
  export const BAD_EXPORTS: u8 = 3;
  export const OVERSIZE: u8 = 4;
  export const BAD_CODE: u8 = 5;
  export const CODE_OVERSIZE: u8 = 6;
}

/** Log levels for `log` (JIP-1's levels: 0 error .. 4 trace); the engine records the number as given. */
export namespace LogLevel {
  export const ERROR: i32 = 0;
  export const WARN: i32 = 1;
  export const INFO: i32 = 2;
  export const DEBUG: i32 = 3;
  export const TRACE: i32 = 4;
}

/** Largest refine output (bytes, GP W_R); a longer one makes the item `oversize`. */
export const MAX_REFINE_OUTPUT_BYTES: i32 = 49152;
/** Longest storage key (bytes); `write` answers WHAT past it, `read` NONE. */
export const MAX_STORAGE_KEY_BYTES: i32 = 256;
/** Longest storage value (bytes); `write` answers FULL past it. */
export const MAX_STORAGE_VALUE_BYTES: i32 = 1048576;
/** Longest log line kept (bytes); longer ones are cut and marked ` [cut]`. */
export const MAX_LOG_BYTES: i32 = 1024;
