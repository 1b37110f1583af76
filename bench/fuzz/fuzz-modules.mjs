// Generates random service modules for differential fuzzing (bench/fuzz/differential.runner.ts).
//
// Per case: random bytes from a seeded PRNG -> binaryen `wasm-opt --translate-to-fuzz` (MVP +
// sign extension + bulk memory, the features docs/service-abi.md allows) -> rewritten with the
// binaryen JS API into a module the service validator accepts:
//   - every expression that produces or consumes f32/f64 (the validator rejects floats) is
//     replaced, top-down, by a constant of its type (i32/i64), `nop` (no value) or `unreachable`;
//     float params, results, locals and globals become i32 (f32) / i64 (f64), now unused;
//   - `memory.init` and `data.drop` (not allowed) become `nop`/constants, passive data segments
//     are dropped from the module;
//   - the fuzzer's imports ("fuzzing-support" log-*, call-export*) become defined functions;
//     the log functions fold their argument into an i64 accumulator global, which `refine`
//     returns, so logged values take part in the comparison;
//   - global initializers become constants; exports of globals are dropped;
//   - `memory` (1 page if the fuzzer made none), `refine` and `accumulate` are exported.
// Both sides of the comparison run this same rewritten module: the rewrite only has to be
// valid, not faithful to the fuzzer's intent.
//
// ESM because binaryen.js is ESM with top-level await (Node 20's require() cannot load it and
// jest's vm cannot import() it). Run as a child process:
//   node bench/fuzz/fuzz-modules.mjs --out DIR --cases JSON   (JSON: [{"seed":1,"size":2048},...])
// writes DIR/case-<i>.wasm and DIR/manifest.json: [{ seed, size, ok, reason?, exports, replaced }].
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const WASM_OPT = path.join(root, 'node_modules', 'binaryen', 'bin', 'wasm-opt');
const TTF_FLAGS = ['--translate-to-fuzz', '--mvp-features', '--enable-sign-ext', '--enable-bulk-memory'];

/** mulberry32: the case's random input bytes depend only on its seed. */
export function randomBytes(seed, size) {
  let a = seed >>> 0;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

function translateToFuzz(input, dir, index) {
  const inFile = path.join(dir, `in-${index}.dat`);
  const outFile = path.join(dir, `ttf-${index}.wasm`);
  writeFileSync(inFile, input);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WASM_OPT, inFile, ...TTF_FLAGS, '-o', outFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(readFileSync(outFile)) : reject(new Error(`wasm-opt -ttf exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

const B = binaryen;
const isFloat = (t) => t === B.f32 || t === B.f64;
const mapType = (t) => (t === B.f32 ? B.i32 : t === B.f64 ? B.i64 : t);
const mapTypes = (t) => B.createType(B.expandType(t).map(mapType));

/** [field, setter] of each single child, and [field, setter(expr, index, child)] of child arrays, by expression id. */
const CHILDREN = new Map([
  [B.BlockId, { list: ['children', B.Block.setChildAt] }],
  [
    B.IfId,
    {
      one: [
        ['condition', B.If.setCondition],
        ['ifTrue', B.If.setIfTrue],
        ['ifFalse', B.If.setIfFalse],
      ],
    },
  ],
  [B.LoopId, { one: [['body', B.Loop.setBody]] }],
  [
    B.BreakId,
    {
      one: [
        ['condition', B.Break.setCondition],
        ['value', B.Break.setValue],
      ],
    },
  ],
  [
    B.SwitchId,
    {
      one: [
        ['condition', B.Switch.setCondition],
        ['value', B.Switch.setValue],
      ],
    },
  ],
  [B.CallId, { list: ['operands', B.Call.setOperandAt] }],
  [B.CallIndirectId, { one: [['target', B.CallIndirect.setTarget]], list: ['operands', B.CallIndirect.setOperandAt] }],
  [B.LocalSetId, { one: [['value', B.LocalSet.setValue]] }],
  [B.GlobalSetId, { one: [['value', B.GlobalSet.setValue]] }],
  [B.LoadId, { one: [['ptr', B.Load.setPtr]] }],
  [
    B.StoreId,
    {
      one: [
        ['ptr', B.Store.setPtr],
        ['value', B.Store.setValue],
      ],
    },
  ],
  [B.UnaryId, { one: [['value', B.Unary.setValue]] }],
  [
    B.BinaryId,
    {
      one: [
        ['left', B.Binary.setLeft],
        ['right', B.Binary.setRight],
      ],
    },
  ],
  [
    B.SelectId,
    {
      one: [
        ['ifTrue', B.Select.setIfTrue],
        ['ifFalse', B.Select.setIfFalse],
        ['condition', B.Select.setCondition],
      ],
    },
  ],
  [B.DropId, { one: [['value', B.Drop.setValue]] }],
  [B.ReturnId, { one: [['value', B.Return.setValue]] }],
  [B.MemoryGrowId, { one: [['delta', B.MemoryGrow.setDelta]] }],
  [
    B.MemoryCopyId,
    {
      one: [
        ['dest', B.MemoryCopy.setDest],
        ['source', B.MemoryCopy.setSource],
        ['size', B.MemoryCopy.setSize],
      ],
    },
  ],
  [
    B.MemoryFillId,
    {
      one: [
        ['dest', B.MemoryFill.setDest],
        ['value', B.MemoryFill.setValue],
        ['size', B.MemoryFill.setSize],
      ],
    },
  ],
  [B.ConstId, {}],
  [B.LocalGetId, {}],
  [B.GlobalGetId, {}],
  [B.NopId, {}],
  [B.UnreachableId, {}],
  [B.MemorySizeId, {}],
]);

function childRefs(info, shape) {
  const refs = [];
  for (const [field] of shape.one ?? []) if (info[field]) refs.push(info[field]);
  if (shape.list) refs.push(...info[shape.list[0]]);
  return refs;
}

/** Rewrites `expr` in place (or returns a replacement) so that no float value flows anywhere. */
function rewrite(m, expr, stats) {
  const type = B.getExpressionType(expr);
  const shape = CHILDREN.get(B.getExpressionId(expr));
  const replace = () => {
    stats.replaced++;
    const t = mapType(type);
    if (t === B.i32) return m.i32.const(0);
    if (t === B.i64) return m.i64.const(0n);
    if (t === B.none) return m.nop();
    return m.unreachable();
  };
  if (shape === undefined || isFloat(type)) return replace();
  if (shape.one === undefined && shape.list === undefined) return expr;
  const info = B.getExpressionInfo(expr);
  if (childRefs(info, shape).some((c) => isFloat(B.getExpressionType(c)))) return replace();
  for (const [field, set] of shape.one ?? []) if (info[field]) set(expr, rewrite(m, info[field], stats));
  if (shape.list) info[shape.list[0]].forEach((c, i) => shape.list[1](expr, i, rewrite(m, c, stats)));
  return expr;
}

const ACC = '__fuzz_acc';

/** Turns a translate-to-fuzz module into a service module (see the header); returns bytes and the callable exports. */
export function servicify(ttf) {
  const m = B.readBinary(ttf);
  m.setFeatures(B.Features.MVP | B.Features.SignExt | B.Features.BulkMemory | (B.Features.BulkMemoryOpt ?? 0) | B.Features.MutableGlobals);
  const stats = { replaced: 0 };
  const exported = [];
  for (let i = 0; i < m.getNumExports(); i++) exported.push(B.getExportInfo(m.getExportByIndex(i)));
  for (const e of exported) m.removeExport(e.name);

  const globals = [];
  for (let i = 0; i < m.getNumGlobals(); i++) globals.push(B.getGlobalInfo(m.getGlobalByIndex(i)));
  for (const g of globals) {
    const init = g.init ? B.getExpressionInfo(g.init) : undefined;
    if (!g.module && !isFloat(g.type) && init?.id === B.ConstId) continue;
    m.removeGlobal(g.name);
    const t = mapType(g.type);
    m.addGlobal(g.name, t, g.mutable, t === B.i64 ? m.i64.const(0n) : m.i32.const(0));
  }
  m.addGlobal(ACC, B.i64, true, m.i64.const(0n));

  const functions = [];
  for (let i = 0; i < m.getNumFunctions(); i++) functions.push(B.getFunctionInfo(m.getFunctionByIndex(i)));
  for (const f of functions) {
    const params = mapTypes(f.params);
    const results = mapTypes(f.results);
    let body;
    if (f.module) {
      // fuzzer import: log-* fold their argument into the accumulator, the rest return zero
      const p = B.expandType(params);
      const zero = results === B.i32 ? m.i32.const(0) : results === B.i64 ? m.i64.const(0n) : m.nop();
      if (f.base.startsWith('log') && p.length === 1) {
        const x = p[0] === B.i64 ? m.local.get(0, B.i64) : m.i64.extend_u(m.local.get(0, B.i32));
        body = m.block(null, [m.global.set(ACC, m.i64.add(m.i64.mul(m.global.get(ACC, B.i64), m.i64.const(1000003n)), x)), zero]);
      } else {
        body = zero;
      }
    } else {
      body = rewrite(m, f.body, stats);
    }
    const vars = (f.vars ?? []).map(mapType);
    m.removeFunction(f.name);
    m.addFunction(f.name, params, results, vars, body);
  }

  // element segments hold typed references to the functions replaced above: rebuild them
  const elems = [];
  for (let i = 0; i < m.getNumElementSegments(); i++) elems.push(B.getElementSegmentInfo(m.getElementSegmentByIndex(i)));
  for (const e of elems) {
    m.removeElementSegment(e.name);
    if (!e.isPassive && e.table) m.addActiveElementSegment(e.table, e.name, e.data, m.copyExpression(e.offset));
  }

  // passive segments need memory.init (not allowed); the rewrite removed every memory.init
  const segments = [];
  if (m.hasMemory()) {
    const mem = m.getMemoryInfo();
    for (let i = 0; i < m.getNumDataSegments(); i++) {
      const s = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
      if (!s.passive) segments.push({ offset: s.offset, data: new Uint8Array(s.data) });
    }
    const max = Math.min(mem.max ?? 16, 64);
    m.setMemory(
      Math.min(mem.initial, max),
      max,
      'memory',
      segments.map((s) => ({ offset: m.i32.const(s.offset), data: s.data, passive: false })),
    );
    if (m.getNumDataSegments() !== segments.length) throw new Error('setMemory kept the old data segments');
  } else {
    m.setMemory(1, 1, 'memory');
  }

  const callable = [];
  for (const e of exported) {
    if (e.kind !== B.ExternalFunction || e.name.startsWith('__jam') || e.name === 'refine' || e.name === 'accumulate') continue;
    const f = B.getFunctionInfo(m.getFunction(e.value));
    const params = B.expandType(f.params).map((t) => (t === B.i64 ? 'i64' : 'i32'));
    const r = B.expandType(f.results);
    m.addFunctionExport(e.value, e.name);
    callable.push({ name: e.name, params, result: r.length === 0 ? 'none' : r[0] === B.i64 ? 'i64' : 'i32' });
  }
  m.addFunction('__fuzz_refine', B.createType([B.i32, B.i32]), B.i64, [], m.global.get(ACC, B.i64));
  m.addFunction('__fuzz_accumulate', B.createType([B.i32]), B.i64, [], m.i64.const(0n));
  m.addFunctionExport('__fuzz_refine', 'refine');
  m.addFunctionExport('__fuzz_accumulate', 'accumulate');
  if (m.getStart()) m.setStart(0);
  if (!m.validate()) throw new Error('rewritten module does not validate');
  const bytes = m.emitBinary();
  m.dispose();
  return { bytes, exports: callable, replaced: stats.replaced };
}

/** Generates every case (two wasm-opt processes at a time); a case that fails to generate is reported, not thrown. */
export async function generate(cases, outDir) {
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'jam-fuzz-'));
  const manifest = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const { seed, size } = cases[i];
      try {
        const ttf = await translateToFuzz(randomBytes(seed, size), work, i);
        const s = servicify(ttf);
        writeFileSync(path.join(outDir, `case-${i}.wasm`), s.bytes);
        manifest[i] = { seed, size, ok: true, exports: s.exports, replaced: s.replaced };
      } catch (e) {
        manifest[i] = { seed, size, ok: false, reason: String(e?.message ?? e).split('\n')[0], exports: [], replaced: 0 };
      }
    }
  };
  await Promise.all([worker(), worker()]);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out');
  const cases = JSON.parse(arg('--cases') ?? '[]');
  if (!out) {
    console.error('usage: node bench/fuzz/fuzz-modules.mjs --out DIR --cases \'[{"seed":1,"size":2048}]\'');
    process.exit(2);
  }
  await generate(cases, out);
}
