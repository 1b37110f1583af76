/** Types for npm `wasm-metering` 0.2.1 (ships none); only what bench/sandbox-overhead.ts calls. */
declare module 'wasm-metering' {
  interface MeterOptions {
    /** Register type of the injected `usegas` import's parameter (default i64). */
    meterType?: 'i32' | 'i64' | 'f32' | 'f64';
    moduleStr?: string;
    fieldStr?: string;
    costTable?: Record<string, unknown>;
  }
  /** Returns the metered module: a call to the imported `metering.usegas(cost)` at the start of every block. */
  export function meterWASM(wasm: Uint8Array, opts?: MeterOptions): Uint8Array;
}
