import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '@jam/domain';
import { HOST_WHAT } from '../host-abi';
import { detectCodeFormat, reportEngineIdentity } from '../code-format';
import { ENGINE_IDENTITY } from '../sandbox.types';
import { validateServiceCode } from '../service-code.validator';
import { echoService, gasAndWhatService, HALT, heapToucherService, pvmServiceBlob, spinService } from '../../test/pvm-service.builder';
import { executePvmAccumulate, executePvmRefine, preparePvmService } from './pvm.executor';
import { PVM_ENGINE_IDENTITY, PVM_MAX_INTERPRETER_MEMORY_BYTES, PVM_PRODUCT_ENGINE, runPvm } from './pvm.machine';

const TEST_SERVICE = path.resolve(__dirname, '../../../../test/fixtures/jam-vectors/pvm-services/test-service.jam');

const job = (payload: Uint8Array, gasLimit = 1_000_000n) => ({
  itemIndex: 0,
  payload,
  gasLimit,
  preimages: new Map(),
  serviceId: 7,
  packageHash: new Uint8Array(32),
});

function rejection(code: Uint8Array): DomainError {
  try {
    validateServiceCode(code);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('PVM services', () => {
  it('detects the format from the bytes: \\0asm is Wasm, anything else is read as a JAM service blob', () => {
    expect(detectCodeFormat(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBe('wasm');
    expect(detectCodeFormat(echoService())).toBe('jam-pvm');
    expect(detectCodeFormat(readFileSync(TEST_SERVICE))).toBe('jam-pvm');
  });

  it('accepts a real JAM service blob (jam-pvm-build output from the accumulate vectors) and the assembled ones', () => {
    const blob = preparePvmService(readFileSync(TEST_SERVICE));
    expect(new TextDecoder().decode(blob.service.metadata)).toContain('test-service');
    expect(blob.service.program.blob.jumpTable.length).toBeGreaterThan(0);
    for (const code of [echoService(), gasAndWhatService(), spinService()]) expect(() => validateServiceCode(code)).not.toThrow();
  });

  it('refuses what is neither format with invalid_code and the exact reason', () => {
    const cases: [Uint8Array, string][] = [
      [Uint8Array.from([1, 2, 3]), 'read-only data length: 3 bytes needed, 1 left'],
      [Uint8Array.from([0]), 'read-only data length: 3 bytes needed, 0 left'],
      // metadata 0, then o = w = 0, z = 0, s = 0, code blob of 3 bytes: jump table 0, item 0, |c| = 0
      [Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]), 'code is empty'],
      // the echo service with one byte too many
      [Uint8Array.from([...echoService(), 0]), '1 bytes after the code blob'],
    ];
    for (const [code, detail] of cases) {
      const e = rejection(code);
      expect(e.code).toBe('invalid_code');
      expect(e.message).toBe(`neither a WebAssembly module (no \\0asm magic) nor a valid JAM service blob: ${detail}`);
      expect(e.details).toEqual({ reason: e.message, category: 'code' });
    }
  });

  it('refuses a jump table entry that is not an instruction start', () => {
    // code blob: 1 entry of 1 byte = 1 (inside the 5-byte jump at 0), code = jump +5 .. halt
    const code = [0x28, 5, 0, 0, 0, 0x32, 0x00];
    const blob = [1, 1, code.length, 1, ...code, 0b0100001];
    const program = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, blob.length, 0, 0, 0, ...blob];
    expect(rejection(Uint8Array.from([0, ...program])).message).toMatch(/jump table entry 0 \(1\) is not an instruction start in the code$/);
  });

  it('runs refine: the echo service returns its payload through `fetch`, with the gas it used', () => {
    const payload = new TextEncoder().encode('hello, PVM');
    const r = executePvmRefine(preparePvmService(echoService()), job(payload));
    expect(r.result).toEqual({ ok: payload });
    // 10 instructions (jump at 0 + 9 in the body) + 10 for the host call + 3 for the 10 bytes it copied (1 per 4)
    expect(r.gasUsed).toBe(23n);
  });

  it('passes refine exactly the GP 0.7.2 arguments a = E(c, i, w_s, ↕w_y, H(p)) (appendix B.3, Ψ_R): compact naturals, the length-prefixed payload, the package hash', () => {
    // A service that halts at once returns μ[ω7 .. ω7 + ω8]: the argument zone itself (GP A.7 standard initialisation).
    const argsEcho = preparePvmService(pvmServiceBlob([HALT]));
    const payload = Uint8Array.from({ length: 200 }, (_, k) => k);
    const packageHash = Uint8Array.from({ length: 32 }, (_, k) => 255 - k);
    const out = executePvmRefine(argsEcho, { ...job(payload), itemIndex: 3, serviceId: 0x1234, packageHash });
    // written by hand from GP 0.7.2 eq. C.1: x < 2^7 is one byte; 2^7 <= x < 2^14 is 0x80 + (x >> 8), then x & 0xff
    const expected = Uint8Array.from([0x00, 0x03, 0x80 + 0x12, 0x34, 0x80 + 0, 200, ...payload, ...packageHash]);
    expect(out.result).toEqual({ ok: expected });
  });

  it('answers `gas` with the gas left and an unknown host call with WHAT, and goes on', () => {
    const r = executePvmRefine(preparePvmService(gasAndWhatService()), job(new Uint8Array(0), 1000n));
    const out = (r.result as { ok: Uint8Array }).ok;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    expect(view.getBigUint64(0, true)).toBe(HOST_WHAT);
    // at the first ecalli: 1000 - 2 instructions (jump, ecalli) - 10 (the call)
    expect(view.getBigUint64(8, true)).toBe(988n);
    expect(r.gasUsed).toBe(8n + 20n);
  });

  it('ends a refine that runs past its gas limit as out_of_gas, having used the whole limit', () => {
    const r = executePvmRefine(preparePvmService(spinService()), job(new Uint8Array(0), 5000n));
    expect(r).toEqual({ result: { out_of_gas: null }, gasUsed: 5000n, logs: [], exports: [] });
  });

  it('runs the real service blob (jam-pvm-build output) to its result: it decodes the GP refine arguments and the protocol constants', () => {
    const code = preparePvmService(readFileSync(TEST_SERVICE));
    const a = executePvmRefine(code, job(new TextEncoder().encode('payload'), 1_000_000n));
    const b = executePvmRefine(code, job(new TextEncoder().encode('payload'), 1_000_000n));
    expect(b).toEqual(a);
    expect(a.result).toEqual({ ok: new TextEncoder().encode('Hello payload') });
    expect(a.logs).toEqual(['[2] This is Refine in the Test Service 7h with payload len 7']);
    expect(a.gasUsed).toBeGreaterThan(0n);
  });

  it('runs accumulate at pc 5 (a service that halts at once: ok, no writes)', () => {
    const r = executePvmAccumulate(preparePvmService(echoService()), {
      gasLimit: 100n,
      operands: [],
      storage: new Map(),
      storageQuota: { maxBytes: 0, maxItems: 0 },
    });
    expect(r).toEqual({ status: 'ok', gasUsed: 1n, writes: [], logs: [] });
  });

  it('binds the engine into the report identity: Wasm alone as before, PVM distinct, both joined', () => {
    expect(reportEngineIdentity([])).toBe(ENGINE_IDENTITY);
    expect(reportEngineIdentity([ENGINE_IDENTITY, ENGINE_IDENTITY])).toBe(ENGINE_IDENTITY);
    expect(reportEngineIdentity([PVM_ENGINE_IDENTITY])).toBe(PVM_ENGINE_IDENTITY);
    expect(PVM_ENGINE_IDENTITY.name).not.toBe(ENGINE_IDENTITY.name);
    const both = reportEngineIdentity([PVM_ENGINE_IDENTITY, ENGINE_IDENTITY, PVM_ENGINE_IDENTITY]);
    expect(both).toEqual(reportEngineIdentity([ENGINE_IDENTITY, PVM_ENGINE_IDENTITY]));
    expect(both.name).toBe(`${PVM_ENGINE_IDENTITY.name}+${ENGINE_IDENTITY.name}`);
  });

  it.each(['interpreter', 'auto'] as const)(
    '%s: ends a run whose memory passes the cap as panic, at the same gas every time (fresh instance per run)',
    (engine) => {
      const code = preparePvmService(heapToucherService());
      const run = () =>
        runPvm(
          { kind: 'service', bytes: code.bytes, blob: code.service.program.blob, pc: 0, args: new Uint8Array(0) },
          50_000_000n,
          () => undefined,
          (r, m) => ({ exit: r.exit, gasLeft: r.gasLeft, memoryLimit: r.memoryLimit, bytes: m.memoryBytes() }),
          engine,
        );
      const first = run();
      expect(first).toMatchObject({ exit: 'panic', memoryLimit: true });
      // the interpreter is stopped once past the cap; the translator refuses the sbrk that would pass it
      if (engine === 'interpreter') expect(first.bytes).toBeGreaterThan(PVM_MAX_INTERPRETER_MEMORY_BYTES);
      else expect(first.bytes).toBeLessThanOrEqual(PVM_MAX_INTERPRETER_MEMORY_BYTES);
      // stopped long before the 2^19 pages (about 4 gas each) the loop would touch
      expect(50_000_000n - first.gasLeft).toBeLessThan(1_500_000n);
      expect(run()).toEqual(first);
      if (engine !== PVM_PRODUCT_ENGINE) return;
      expect(executePvmRefine(code, job(new Uint8Array(0), 50_000_000n))).toEqual({
        result: { panic: null },
        gasUsed: 50_000_000n - first.gasLeft,
        logs: [],
        exports: [],
      });
    },
  );
});
