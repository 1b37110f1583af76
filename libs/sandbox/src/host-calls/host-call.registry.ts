import { exportHostCall } from './export.host-call';
import { fetchHostCall } from './fetch.host-call';
import { gasHostCall } from './gas.host-call';
import type { HostCall, HostEnv } from './host-call';
import { logHostCall } from './log.host-call';
import { lookupHostCall } from './lookup.host-call';
import { readHostCall } from './read.host-call';
import { writeHostCall } from './write.host-call';

/** Names of the host functions a service may import from module "jam" (docs/service-abi.md; GP 0.7.2 host-call names). */
export type HostCallName = 'gas' | 'fetch' | 'lookup' | 'read' | 'write' | 'export' | 'log';

/**
 * The host calls, one module each (signature, price, handler). The validator checks imports
 * against these signatures and the executor binds these handlers: adding a host call means adding
 * its module, its name to HostCallName and its entry here (the compiler refuses a missing or extra
 * one), and its row in docs/service-abi.md and docs/gas.md.
 */
export const HOST_CALLS = {
  gas: gasHostCall,
  fetch: fetchHostCall,
  lookup: lookupHostCall,
  read: readHostCall,
  write: writeHostCall,
  export: exportHostCall,
  log: logHostCall,
} as const satisfies Record<HostCallName, HostCall>;

/** Whether `name` is a host call (own property of HOST_CALLS, not an inherited one such as `toString`). */
export function isHostCallName(name: string): name is HostCallName {
  return Object.prototype.hasOwnProperty.call(HOST_CALLS, name);
}

/**
 * A plain closure of the call's own arity (V8 calls it from Wasm without an arguments adapter,
 * unlike a bound or rest-parameter function), passing `env` first and the call as `this`.
 */
function bindHostCall(call: HostCall, env: HostEnv): (...args: number[]) => bigint {
  const handle = call.handle as (this: HostCall, env: HostEnv, ...args: number[]) => bigint;
  switch (call.params.length) {
    case 0:
      return () => handle.call(call, env);
    case 2:
      return (a: number, b: number) => handle.call(call, env, a, b);
    case 3:
      return (a: number, b: number, c: number) => handle.call(call, env, a, b, c);
    case 4:
      return (a: number, b: number, c: number, d: number) => handle.call(call, env, a, b, c, d);
    case 5:
      return (a: number, b: number, c: number, d: number, e: number) => handle.call(call, env, a, b, c, d, e);
    default:
      return (...args: number[]) => handle.call(call, env, ...args);
  }
}

/** The `jam` import object for one instance: every host call's handler bound to `env`. */
export function hostImports(env: HostEnv): Record<HostCallName, (...args: number[]) => bigint> {
  const out = {} as Record<HostCallName, (...args: number[]) => bigint>;
  for (const name of Object.keys(HOST_CALLS) as HostCallName[]) out[name] = bindHostCall(HOST_CALLS[name], env);
  return out;
}
