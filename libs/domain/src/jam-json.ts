import { isInteger, parse, stringify } from 'lossless-json';
import { DomainError } from './domain-error';

/**
 * BigInt-aware JSON text parsing. Integers that are safe JS numbers (|n| <= 2^53 - 1) become
 * numbers; larger integers become `bigint` with every digit kept (u64 gas values reach 2^64 - 1
 * and `JSON.parse` would round them). Non-integers become numbers. Uses `lossless-json`
 * (CommonJS build, Node 20); duplicate keys with different values are rejected by it.
 *
 * @throws DomainError('invalid_json') on malformed text, with the parser's position message.
 */
export function parseJamJson(text: string): unknown {
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
