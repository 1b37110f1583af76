import { invalidParam } from './jip2-errors';

/** Padded base64 of RFC 4648 (JIP-2 "Blob"): groups of 4, `=` padding only at the end. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * By-position parameters of one call (JIP-2: "params" is an Array; absent = no parameters).
 * @param names the parameter names in order, for error messages
 * @throws RpcError -32602 when params is not an Array or has another length
 */
export function positional(params: unknown, names: readonly string[]): unknown[] {
  const list = params === undefined ? [] : params;
  if (!Array.isArray(list)) throw invalidParam('params', 'must be an Array (JIP-2 passes parameters by position)');
  if (list.length !== names.length) {
    throw invalidParam('params', `expected ${names.length} parameter(s) (${names.join(', ') || 'none'}), got ${list.length}`);
  }
  return list;
}

/** A JIP-2 Blob: padded base64 decoded to bytes. @param maxBytes decoded size cap. @throws RpcError -32602 */
export function blobParam(value: unknown, name: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string' || !BASE64_RE.test(value)) throw invalidParam(name, 'must be a String of padded base64 (RFC 4648)');
  if ((value.length / 4) * 3 > maxBytes + 2) throw invalidParam(name, `must decode to at most ${maxBytes} bytes`);
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  if (bytes.length > maxBytes) throw invalidParam(name, `must decode to at most ${maxBytes} bytes`);
  return bytes;
}

/** A JIP-2 Hash: padded base64 of exactly 32 bytes. @throws RpcError -32602 */
export function hashParam(value: unknown, name: string): Uint8Array {
  const bytes = blobParam(value, name, 32);
  if (bytes.length !== 32) throw invalidParam(name, 'must be a Hash: base64 of exactly 32 bytes');
  return bytes;
}

/** A u32 Number (service id, core, length). @throws RpcError -32602 */
export function u32Param(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalidParam(name, 'must be an unsigned 32-bit integer');
  return value;
}

/** A Boolean (`finalized` of the subscribe methods). @throws RpcError -32602 */
export function boolParam(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidParam(name, 'must be a Boolean');
  return value;
}
