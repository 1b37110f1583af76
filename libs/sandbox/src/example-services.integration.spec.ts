import { existsSync, readFileSync } from 'node:fs';
import { blake2b } from 'hash-wasm';
import { exampleServicePath } from './example-services';
import { SandboxPool } from './sandbox.pool';

function pseudoRandom(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('example services', () => {
  it('exampleServicePath points at the built modules', () => {
    expect(exampleServicePath('word-count')).toMatch(/services\/word-count\/build\/word-count\.wasm$/);
    expect(existsSync(exampleServicePath('word-count'))).toBe(true);
    expect(() => exampleServicePath('../etc')).toThrow(/invalid example service name/);
  });

  describe('blake2b', () => {
    let pool: SandboxPool;
    let code: Uint8Array;
    let codeHash: string;

    beforeAll(async () => {
      code = new Uint8Array(readFileSync(exampleServicePath('blake2b')));
      codeHash = '0x' + (await blake2b(code, 256));
      pool = new SandboxPool({ size: 1 });
      await pool.start();
    });
    afterAll(() => pool.close());

    it.each([0, 1, 3, 127, 128, 129, 256, 16384, 16385, 100_000])('refine hashes a %i-byte payload like hash-wasm', async (len) => {
      const payload = pseudoRandom(len, len + 1);
      const out = await pool.refine({ codeHash, code, serviceId: 2, itemIndex: 0, payload, gasLimit: 1_000_000_000n, preimages: new Map() });
      expect(out.result).toEqual({ ok: new Uint8Array(Buffer.from(await blake2b(payload, 256), 'hex')) });
    });

    it('accumulate records each ok digest and counts them', async () => {
      const d1 = new Uint8Array(32).fill(1);
      const d2 = new Uint8Array(32).fill(2);
      const out = await pool.accumulate({
        codeHash,
        code,
        serviceId: 2,
        gasLimit: 10_000_000n,
        operands: [d1, d2]
          .map((ok) => ({ packageHash: '0x', payloadHash: '0x', result: { ok } }))
          .concat([{ packageHash: '0x', payloadHash: '0x', result: { ok: new Uint8Array(4) } }]),
        storage: new Map([['0x' + Buffer.from('count').toString('hex'), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0])]]),
        storageQuota: { maxBytes: 1024, maxItems: 16 },
      });
      expect(out.status).toBe('ok');
      expect(out.writes).toEqual([
        { key: d1, value: new Uint8Array([1]) },
        { key: d2, value: new Uint8Array([1]) },
        { key: new Uint8Array(Buffer.from('count')), value: new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]) },
      ]);
    });
  });
});
