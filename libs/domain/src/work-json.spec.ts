import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DomainError } from './domain-error';
import { MAX_JSON_DEPTH, parseJamJson, stringifyJamJson } from './jam-json';
import { workItemFromJson, workItemToJson, workPackageFromJson } from './work-package.json';
import { workReportFromJson } from './work-report.json';

const VECTORS = path.resolve(__dirname, '../../../test/fixtures/jam-vectors/codec/tiny');
const read = (name: string): Record<string, unknown> => parseJamJson(readFileSync(path.join(VECTORS, `${name}.json`), 'utf8')) as Record<string, unknown>;

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('JAM JSON', () => {
  it('parses integers beyond 2^53 as bigint and writes them back as numbers', () => {
    const v = parseJamJson('{"a": 18446744073709551615, "b": 42, "c": 1.5}');
    expect(v).toEqual({ a: 18446744073709551615n, b: 42, c: 1.5 });
    expect(stringifyJamJson(v)).toBe('{"a":18446744073709551615,"b":42,"c":1.5}');
    expect(() => parseJamJson('{"a": }')).toThrow(expect.objectContaining({ code: 'invalid_json' }));
  });

  it('accepts u64 as safe number, bigint or decimal string and emits number or bigint', () => {
    const item = read('work_item');
    const max = workItemFromJson({ ...item, refine_gas_limit: '18446744073709551615', accumulate_gas_limit: 2n ** 60n });
    expect(max.refine_gas_limit).toBe(18446744073709551615n);
    const json = workItemToJson(max);
    expect(json.refine_gas_limit).toBe(18446744073709551615n);
    expect(json.accumulate_gas_limit).toBe(2n ** 60n);
    expect(workItemToJson(workItemFromJson(item)).refine_gas_limit).toBe(42);
  });

  it.each<[string, (p: Record<string, unknown>) => unknown, string]>([
    ['bad hex', (p) => ({ ...p, authorization: '0xzz' }), 'authorization'],
    ['missing 0x', (p) => ({ ...p, authorization: '0102' }), 'authorization'],
    ['short hash', (p) => ({ ...p, auth_code_hash: '0x00' }), 'auth_code_hash'],
    ['u32 out of range', (p) => ({ ...p, auth_code_host: 2 ** 32 }), 'auth_code_host'],
    ['negative', (p) => ({ ...p, auth_code_host: -1 }), 'auth_code_host'],
    ['fraction', (p) => ({ ...p, auth_code_host: 1.5 }), 'auth_code_host'],
    ['unknown key', (p) => ({ ...p, extra: 1 }), 'extra'],
    ['missing key', ({ items: _items, ...rest }) => rest, 'items'],
    ['u16 out of range', (p) => withItem(p, { export_count: 65536 }), 'items[0].export_count'],
    ['u64 too big', (p) => withItem(p, { refine_gas_limit: 2n ** 64n }), 'items[0].refine_gas_limit'],
    ['unsafe number for u64', (p) => withItem(p, { refine_gas_limit: 2 ** 60 }), 'items[0].refine_gas_limit'],
    ['non-decimal string', (p) => withItem(p, { refine_gas_limit: '0x10' }), 'items[0].refine_gas_limit'],
    ['not an array', (p) => withItem(p, { extrinsic: {} }), 'items[0].extrinsic'],
    ['nested unknown key', (p) => withItem(p, { import_segments: [{ tree_root: '0x' + '00'.repeat(32), index: 0, x: 1 }] }), 'items[0].import_segments[0].x'],
    ['bad prerequisite', (p) => ({ ...p, context: { ...(p.context as object), prerequisites: ['0x01'] } }), 'context.prerequisites[0]'],
  ])('workPackageFromJson rejects %s with its path', (_name, mutate, expectedPath) => {
    const err = thrown(() => workPackageFromJson(mutate(read('work_package'))));
    expect(err.code).toBe('invalid_package');
    expect(err.details).toEqual({ path: expectedPath });
    expect(err.message.startsWith(`${expectedPath}: `)).toBe(true);
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH with invalid_json, counting only brackets outside strings', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(parseJamJson(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    expect(() => parseJamJson(nested(MAX_JSON_DEPTH + 1))).toThrow(
      expect.objectContaining({ code: 'invalid_json', message: `malformed JSON: nested deeper than ${MAX_JSON_DEPTH} levels (at position ${MAX_JSON_DEPTH})` }),
    );
    // 100,000 deep used to reach the parser and fail with V8's stack overflow text
    expect(() => parseJamJson(nested(100_000))).toThrow(
      expect.objectContaining({ code: 'invalid_json', message: expect.stringContaining('nested deeper than') }),
    );
    // brackets and escaped quotes inside strings do not count
    expect(parseJamJson(JSON.stringify({ s: '['.repeat(1000) + '\\"{{{' }))).toEqual({ s: '['.repeat(1000) + '\\"{{{' });
  });

  it('rejects non-objects at the root', () => {
    expect(thrown(() => workPackageFromJson(null)).details).toEqual({ path: 'value' });
  });

  it('workReportFromJson validates results with invalid_json', () => {
    const report = read('work_report');
    const results = report.results as Record<string, unknown>[];
    const bad = { ...report, results: [{ ...results[0], result: { ok: '0x', panic: null } }] };
    const err = thrown(() => workReportFromJson(bad));
    expect(err.code).toBe('invalid_json');
    expect(err.details).toEqual({ path: 'results[0].result' });
    const bad2 = { ...report, results: [{ ...results[1], result: { panic: 1 } }] };
    expect(thrown(() => workReportFromJson(bad2)).details).toEqual({ path: 'results[0].result.panic' });
    const bad3 = { ...report, core_index: 70000 };
    expect(thrown(() => workReportFromJson(bad3)).details).toEqual({ path: 'core_index' });
  });
});

function withItem(p: Record<string, unknown>, patch: Record<string, unknown>): unknown {
  const items = p.items as Record<string, unknown>[];
  return { ...p, items: [{ ...items[0], ...patch }, ...items.slice(1)] };
}
