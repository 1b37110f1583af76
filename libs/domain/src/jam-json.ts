import { isInteger, parse, stringify } from 'lossless-json';
import { DomainError } from './domain-error';

/**
 * Deepest array/object nesting `parseJamJson` accepts. GP JSON of a work package nests at most
 * 5 deep; the cap refuses hostile input before the (recursive) parser would exhaust the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Index of the first bracket nested deeper than `max` (strings skipped), or -1. O(length). */
function tooDeepAt(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/**
 * BigInt-aware JSON text parsing. Integers that are safe JS numbers (|n| <= 2^53 - 1) become
 * numbers; larger integers become `bigint` with every digit kept (u64 gas values reach 2^64 - 1
 * and `JSON.parse` would round them). Non-integers become numbers. Uses `lossless-json`
 * (CommonJS build, Node 20); duplicate keys with different values are rejected by it.
 *
 * @throws DomainError('invalid_json') on malformed text, with the parser's position message, and
 *   on nesting deeper than `MAX_JSON_DEPTH`.
 */
export function parseJamJson(text: string): unknown {
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep >= 0) throw new DomainError('invalid_json', `malformed JSON: nested deeper than ${MAX_JSON_DEPTH} levels (at position ${deep})`);
  try {
    return parse(text, null, (digits: string) => {
      if (!isInteger(digits)) return Number(digits);
      const n = Number(digits);
      return Number.isSafeInteger(n) ? n : BigInt(digits);
    });
  } catch (err: unknown) {
    throw new DomainError('invalid_json', `malformed JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * JSON text in which `bigint` values are written as plain JSON numbers (all digits), the form
 * of the JAM vectors. `indent` is as for `JSON.stringify`.
 *
 * @throws DomainError('invalid_json') when the value has no JSON form (e.g. `undefined`).
 */
export function stringifyJamJson(value: unknown, indent?: number | string): string {
  const out = stringify(value, null, indent);
  if (out === undefined) throw new DomainError('invalid_json', 'value has no JSON form');
  return out;
}
