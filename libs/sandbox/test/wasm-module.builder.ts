/**
 * Test-only builder of tiny WebAssembly modules from raw instruction bytes, so specs can make
 * hostile or malformed guests without a text-format toolchain.
 */
import { ByteWriter, encodeU32 } from '../src/wasm-binary.reader';

export const T = { i32: 0x7f, i64: 0x7e, f64: 0x7c } as const;

export interface FuncSpec {
  type: number;
  locals?: [count: number, type: number][];
  body: number[];
}

export interface ModuleSpec {
  types: [params: number[], results: number[]][];
  imports?: { module: string; name: string; type: number }[];
  funcs: FuncSpec[];
  memory?: { min: number; max?: number; shared?: boolean };
  exports?: { name: string; kind: 'func' | 'memory'; index: number }[];
  start?: number;
}

function name(w: ByteWriter, s: string): void {
  const b = new TextEncoder().encode(s);
  w.u32(b.length).bytes(b);
}

/** Encodes `spec` as a module binary (sections in canonical order). */
export function buildModule(spec: ModuleSpec): Uint8Array {
  const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const types = new ByteWriter().u32(spec.types.length);
  for (const [p, r] of spec.types) types.byte(0x60).u32(p.length).bytes(p).u32(r.length).bytes(r);
  out.section(1, types);
  if (spec.imports?.length) {
    const w = new ByteWriter().u32(spec.imports.length);
    for (const i of spec.imports) {
      name(w, i.module);
      name(w, i.name);
      w.byte(0x00).u32(i.type);
    }
    out.section(2, w);
  }
  const fw = new ByteWriter().u32(spec.funcs.length);
  for (const f of spec.funcs) fw.u32(f.type);
  out.section(3, fw);
  if (spec.memory) {
    const m = spec.memory;
    const w = new ByteWriter().u32(1);
    if (m.shared)
      w.byte(0x03)
        .u32(m.min)
        .u32(m.max ?? m.min);
    else if (m.max === undefined) w.byte(0x00).u32(m.min);
    else w.byte(0x01).u32(m.min).u32(m.max);
    out.section(5, w);
  }
  if (spec.exports?.length) {
    const w = new ByteWriter().u32(spec.exports.length);
    for (const e of spec.exports) {
      name(w, e.name);
      w.byte(e.kind === 'func' ? 0x00 : 0x02).u32(e.index);
    }
    out.section(7, w);
  }
  if (spec.start !== undefined) out.section(8, new Uint8Array(encodeU32(spec.start)));
  const cw = new ByteWriter().u32(spec.funcs.length);
  for (const f of spec.funcs) {
    const b = new ByteWriter().u32(f.locals?.length ?? 0);
    for (const [n, t] of f.locals ?? []) b.u32(n).byte(t);
    b.bytes(f.body);
    const bytes = b.toBytes();
    cw.u32(bytes.length).bytes(bytes);
  }
  out.section(10, cw);
  return out.toBytes();
}

/**
 * A service whose `refine` has body `refineBody` (must end with 0x0b) and whose `accumulate` has
 * `accumulateBody` (default: return 0).
 * Host imports, if any, come first (function indices 0..n-1); refine is index n, accumulate n+1,
 * then `extraFuncs`. Types: 0 = (i32,i32)->i64, 1 = (i32)->i64, 2 = ()->i64, then `extraTypes`.
 */
export function serviceModule(opts: {
  refineBody: number[];
  accumulateBody?: number[];
  refineLocals?: [number, number][];
  imports?: { module: string; name: string; type: number }[];
  extraTypes?: [number[], number[]][];
  extraFuncs?: FuncSpec[];
  memory?: ModuleSpec['memory'];
  start?: boolean;
  omitExport?: string;
}): Uint8Array {
  const base = opts.imports?.length ?? 0;
  const exportList: NonNullable<ModuleSpec['exports']> = [
    { name: 'memory', kind: 'memory', index: 0 },
    { name: 'refine', kind: 'func', index: base },
    { name: 'accumulate', kind: 'func', index: base + 1 },
  ];
  return buildModule({
    types: [[[T.i32, T.i32], [T.i64]], [[T.i32], [T.i64]], [[], [T.i64]], [[], []], ...(opts.extraTypes ?? [])],
    imports: opts.imports,
    funcs: [
      { type: 0, locals: opts.refineLocals, body: opts.refineBody },
      { type: 1, body: opts.accumulateBody ?? [0x42, 0x00, 0x0b] },
      ...(opts.extraFuncs ?? []),
      ...(opts.start ? [{ type: 3, body: [0x0b] }] : []),
    ],
    memory: opts.memory ?? { min: 1 },
    exports: exportList.filter((e) => e.name !== opts.omitExport),
    start: opts.start ? base + 2 + (opts.extraFuncs?.length ?? 0) : undefined,
  });
}
