import { InvalidArgumentError } from 'commander';
import { CliUsageError } from './cli.context';

const HASH_RE = /^0x[0-9a-fA-F]{64}$/;
const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/;

/**
 * Argument parsers for commander. Each throws `InvalidArgumentError`, which commander reports as a
 * usage error (exit code 2) naming the argument.
 */

/** A 32-byte hash as `0x` + 64 hex digits; returned lowercase. */
export function parseHashArg(value: string): string {
  if (!HASH_RE.test(value)) throw new InvalidArgumentError('expected a 0x-prefixed 32-byte hex hash (0x + 64 hex digits)');
  return value.toLowerCase();
}

/** A u32 service id in decimal. */
export function parseServiceIdArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffff_ffff) throw new InvalidArgumentError('expected a service id (u32, decimal)');
  return Number(value);
}

/** A non-negative safe integer (limits, gas, ms). */
export function parseNonNegativeIntArg(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** A positive number of seconds, returned as ms. */
export function parseSecondsArg(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return Math.round(n * 1000);
}

/**
 * A storage key: `0x` hex bytes, or with `utf8` the UTF-8 bytes of the text as given
 * (`words` -> 0x776f726473). Returned as lowercase `0x` hex.
 *
 * @throws CliUsageError for a key that is neither (it depends on `--utf8`, so it is checked in the action).
 */
export function storageKeyToHex(key: string, utf8: boolean): string {
  if (utf8) return `0x${Buffer.from(key, 'utf8').toString('hex')}`;
  if (!HEX_RE.test(key)) {
    throw new CliUsageError(`key must be 0x-prefixed hex bytes (or pass --utf8 to use the text ${JSON.stringify(key)} as the key)`);
  }
  return key.toLowerCase();
}

/** Collects a repeatable option into an array (`--delegate a --delegate b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
