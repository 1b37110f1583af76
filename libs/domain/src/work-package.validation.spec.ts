import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GP_MAX_PACKAGE_SIZE, GP_MAX_WORK_ITEMS } from './gp-constants';
import { decodeWorkPackage } from './work-package.codec';
import { validateWorkPackage } from './work-package.validation';
import type { WorkItem, WorkPackage } from './work-types';

const base = decodeWorkPackage(new Uint8Array(readFileSync(path.resolve(__dirname, '../../../test/fixtures/jam-vectors/codec/tiny/work_package.bin'))));
const item0 = base.items[0]!;
const hash = new Uint8Array(32);

function pkg(items: WorkItem[], patch: Partial<WorkPackage> = {}): WorkPackage {
  return { ...base, items, ...patch };
}
const item = (patch: Partial<WorkItem>): WorkItem => ({ ...item0, ...patch });
const codes = (p: WorkPackage): string[] => validateWorkPackage(p).map((x) => x.code);

describe('validateWorkPackage (GP 0.7.2 limits)', () => {
  it('accepts the vector package', () => {
    expect(validateWorkPackage(base)).toEqual([]);
  });

  it('flags 0 and more than I work items', () => {
    expect(validateWorkPackage(pkg([]))).toEqual([{ path: 'items', code: 'too_few_items', message: expect.any(String) }]);
    expect(codes(pkg(Array.from({ length: GP_MAX_WORK_ITEMS }, () => item0)))).toEqual([]);
    expect(codes(pkg(Array.from({ length: GP_MAX_WORK_ITEMS + 1 }, () => item0)))).toEqual(['too_many_items']);
  });

  it('flags total exports above W_X', () => {
    expect(codes(pkg([item({ export_count: 3072 })]))).toEqual([]);
    expect(codes(pkg([item({ export_count: 3000 }), item({ export_count: 73 })]))).toEqual(['too_many_exports']);
  });

  it('flags total imports above W_M', () => {
    const segs = (n: number) => Array.from({ length: n }, (_, i) => ({ tree_root: hash, index: i }));
    expect(codes(pkg([item({ import_segments: segs(1536) }), item({ import_segments: segs(1536) })]))).toEqual([]);
    // W_M + 1 imports of W_F bytes each are also past W_B (3,073 · 4,488 > 13,791,360, GP 0.7.2 eq. 14.7)
    expect(codes(pkg([item({ import_segments: segs(1536) }), item({ import_segments: segs(1537) })]))).toEqual(['too_many_imports', 'package_too_large']);
  });

  it('flags total extrinsics above T', () => {
    const xs = (n: number) => Array.from({ length: n }, () => ({ hash, len: 1 }));
    expect(codes(pkg([item({ extrinsic: xs(64) }), item({ extrinsic: xs(64) })]))).toEqual([]);
    expect(codes(pkg([item({ extrinsic: xs(64) }), item({ extrinsic: xs(65) })]))).toEqual(['too_many_extrinsics']);
  });

  it('flags more than J prerequisites', () => {
    const context = { ...base.context, prerequisites: Array.from({ length: 9 }, () => hash) };
    expect(validateWorkPackage(pkg(base.items, { context }))).toEqual([
      { path: 'context.prerequisites', code: 'too_many_prerequisites', message: expect.stringContaining('J = 8') },
    ]);
  });

  it('flags data beyond W_B counting each import as W_F = 4,488 bytes and extrinsic lengths (GP 0.7.2 eq. 14.5)', () => {
    const fixed = base.authorization.length + base.authorizer_config.length + item0.payload.length + item0.import_segments.length * 4488;
    const room = GP_MAX_PACKAGE_SIZE - fixed;
    const fits = item({ extrinsic: [{ hash, len: room }] });
    expect(codes(pkg([fits]))).toEqual([]);
    const over = item({ extrinsic: [{ hash, len: room + 1 }] });
    expect(validateWorkPackage(pkg([over]))).toEqual([{ path: '', code: 'package_too_large', message: expect.stringContaining('W_B') }]);
  });

  it('a full complement of W_M imports fits W_B with a 4 KiB payload and 64-byte authorization and config (the sizing of GP 0.7.2 eq. 14.7)', () => {
    const segs = Array.from({ length: 3072 }, (_, i) => ({ tree_root: hash, index: i % 1024 }));
    const full = item({ payload: new Uint8Array(4096), import_segments: segs, extrinsic: [] });
    const auth = { authorization: new Uint8Array(64), authorizer_config: new Uint8Array(64) };
    expect(codes(pkg([full], auth))).toEqual([]);
    expect(codes(pkg([item({ ...full, payload: new Uint8Array(4097) })], auth))).toEqual(['package_too_large']);
  });

  it('flags an encoded package above W_B even when the GP data sum fits', () => {
    const auth = base.authorization.length + base.authorizer_config.length;
    const payload = new Uint8Array(GP_MAX_PACKAGE_SIZE - auth);
    const zeroLen = Array.from({ length: 128 }, () => ({ hash, len: 0 }));
    const p = pkg([item({ payload, import_segments: [], extrinsic: zeroLen })]);
    expect(validateWorkPackage(p)).toEqual([{ path: '', code: 'encoded_package_too_large', message: expect.stringContaining('W_B') }]);
  });

  it('flags zero gas limits with the item path, and totals at or above G_R / G_A', () => {
    expect(validateWorkPackage(pkg([item0, item({ refine_gas_limit: 0n, accumulate_gas_limit: 0n })]))).toEqual([
      { path: 'items[1].refine_gas_limit', code: 'zero_refine_gas', message: expect.any(String) },
      { path: 'items[1].accumulate_gas_limit', code: 'zero_accumulate_gas', message: expect.any(String) },
    ]);
    expect(codes(pkg([item({ refine_gas_limit: 4_999_999_999n, accumulate_gas_limit: 9_999_999n })]))).toEqual([]);
    expect(codes(pkg([item({ refine_gas_limit: 5_000_000_000n, accumulate_gas_limit: 10_000_000n })]))).toEqual([
      'refine_gas_exceeded',
      'accumulate_gas_exceeded',
    ]);
  });
});
