/**
 * The subset of the WebAssembly JS API the sandbox uses. The workspace compiles with lib ES2022
 * (no DOM), and @types/node 20 does not declare `WebAssembly`. Declared as mergeable interfaces.
 */
declare namespace WebAssembly {
  interface Module {}
  interface ModuleConstructor {
    new (bytes: Uint8Array): Module;
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface InstanceConstructor {
    new (module: Module, importObject?: Record<string, Record<string, unknown>>): Instance;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  interface MemoryConstructor {
    /** Sizes in Wasm pages of 64 KiB. */
    new (descriptor: { initial: number; maximum?: number }): Memory;
  }
  interface Global {
    value: unknown;
  }
  interface RuntimeError extends Error {}
  interface RuntimeErrorConstructor {
    new (message?: string): RuntimeError;
    readonly prototype: RuntimeError;
  }
}
declare var WebAssembly: {
  Module: WebAssembly.ModuleConstructor;
  Instance: WebAssembly.InstanceConstructor;
  RuntimeError: WebAssembly.RuntimeErrorConstructor;
  Memory: WebAssembly.MemoryConstructor;
  validate(bytes: Uint8Array): boolean;
};
