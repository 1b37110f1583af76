/**
 * Runs one official PVM test vector (w3f jamtestvectors `pvm/programs/*.json`, v0.4; copy with
 * provenance in test/fixtures/jam-vectors/pvm/) through the product's PVM machine (`runPvm`, the
 * code refine uses) and compares every expected field: status, pc, the 13 registers, gas left,
 * the expected memory chunks and the page-fault address. Used by the unit spec
 * (test/sandbox/pvm-vectors.spec.ts) and `npm run bench -- pvm-vectors`.
 */
import { parseJamJson } from '@jam/domain';
import { decodeCodeBlob } from './pvm-program';
import { runPvm, type PvmEngineKind, type PvmExit } from './pvm.machine';

/** Outcome of one vector: `mismatches` is empty when every field matched. */
export interface PvmVectorResult {
  name: string;
  expectedStatus: string;
  status: PvmExit;
  gasUsed: bigint;
  mismatches: string[];
}

type Json = Record<string, unknown>;

function int(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new Error(`vector field ${what} is not an integer`);
}

function num(v: unknown, what: string): number {
  return Number(int(v, what));
}

function bytes(v: unknown, what: string): Uint8Array {
  if (!Array.isArray(v)) throw new Error(`vector field ${what} is not an array`);
  return Uint8Array.from(v.map((x, i) => num(x, `${what}[${i}]`)));
}

function list(v: unknown, what: string): Json[] {
  if (!Array.isArray(v)) throw new Error(`vector field ${what} is not an array`);
  return v as Json[];
}

/**
 * Runs one vector given as JSON text (numbers up to 2^64 - 1 are read as BigInt).
 * @throws Error when the text is not a well-formed vector; an engine abort propagates
 */
export function runPvmVector(text: string, engine: PvmEngineKind = 'interpreter'): PvmVectorResult {
  const t = parseJamJson(text) as Json;
  const name = String(t['name']);
  const program = bytes(t['program'], 'program');
  const gas = int(t['initial-gas'], 'initial-gas');
  const registers = list(t['initial-regs'], 'initial-regs').map((r, i) => int(r, `initial-regs[${i}]`));
  const pages = list(t['initial-page-map'], 'initial-page-map').map((p) => ({
    address: num(p['address'], 'page address'),
    length: num(p['length'], 'page length'),
    writable: p['is-writable'] === true,
  }));
  const chunks = list(t['initial-memory'], 'initial-memory').map((c) => ({
    address: num(c['address'], 'chunk address'),
    data: bytes(c['contents'], 'chunk contents'),
  }));
  const expected = list(t['expected-memory'], 'expected-memory').map((c) => ({
    address: num(c['address'], 'chunk address'),
    data: bytes(c['contents'], 'chunk contents'),
  }));
  const expectedStatus = String(t['expected-status']);
  const load = { kind: 'generic' as const, bytes: program, blob: decodeCodeBlob(program), pc: num(t['initial-pc'], 'initial-pc'), registers, pages, chunks };
  return runPvm(
    load,
    gas,
    () => 'panic',
    (r, m) => {
      const mismatches: string[] = [];
      if (r.exit !== expectedStatus) mismatches.push(`status ${r.exit}, expected ${expectedStatus}`);
      const pc = num(t['expected-pc'], 'expected-pc');
      if (r.pc !== pc) mismatches.push(`pc ${r.pc}, expected ${pc}`);
      const gasLeft = int(t['expected-gas'], 'expected-gas');
      if (r.gasLeft !== gasLeft) mismatches.push(`gas ${r.gasLeft}, expected ${gasLeft}`);
      list(t['expected-regs'], 'expected-regs').forEach((v, i) => {
        const want = int(v, `expected-regs[${i}]`);
        if (r.registers[i] !== want) mismatches.push(`r${i} ${r.registers[i]}, expected ${want}`);
      });
      for (const c of expected) {
        const got = m.readMemory(c.address, c.data.length);
        if (got === null || Buffer.compare(Buffer.from(got), Buffer.from(c.data)) !== 0) mismatches.push(`memory at ${c.address} differs`);
      }
      if (expectedStatus === 'page-fault') {
        const fault = num(t['expected-page-fault-address'], 'expected-page-fault-address');
        if (r.faultAddress !== fault) mismatches.push(`page-fault address ${r.faultAddress}, expected ${fault}`);
      }
      return { name, expectedStatus, status: r.exit, gasUsed: gas - r.gasLeft, mismatches };
    },
    engine,
  );
}
