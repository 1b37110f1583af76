import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AccumulateJob } from '../../service.executor';
import { executePvmAccumulate, preparePvmService } from '../pvm.executor';

// The product's accumulate path for PVM services with the GP host calls: the real JAM test service
// of the accumulate vectors (test/fixtures/jam-vectors/pvm-services/SOURCE.md) fetches its operands
// and writes the last result under the key "last", as it does in the vectors.
const TEST_SERVICE = path.resolve(__dirname, '../../../../../test/fixtures/jam-vectors/pvm-services/test-service.jam');
const LAST = Buffer.from('last');

function job(result: Uint8Array, storage = new Map<string, Uint8Array>(), quota = { maxBytes: 1_000_000, maxItems: 1_000 }): AccumulateJob {
  return {
    gasLimit: 1_000_000n,
    operands: [{ packageHash: '0x' + '11'.repeat(32), payloadHash: '0x' + '22'.repeat(32), result: { ok: result } }],
    storage,
    storageQuota: quota,
  };
}

describe('PVM accumulate with the GP host calls (product path)', () => {
  const code = preparePvmService(readFileSync(TEST_SERVICE));

  it('stores the operand result under "last" (fetch of the operands, then write), deterministically', () => {
    const result = Uint8Array.from([0xef, 0xd3, 0x6b, 0x4c]);
    const r = executePvmAccumulate(code, job(result));
    expect(r.status).toBe('ok');
    expect(r.writes).toEqual([{ key: new Uint8Array(LAST), value: result }]);
    expect(r.gasUsed).toBeGreaterThan(1_000n);
    expect(executePvmAccumulate(code, job(result))).toEqual(r);
  });

  it('overwrites a stored value, and the write-set names only the key written', () => {
    const storage = new Map([
      ['0x' + LAST.toString('hex'), Uint8Array.of(1)],
      ['0x6f74686572', Uint8Array.of(2)],
    ]);
    const r = executePvmAccumulate(code, job(Uint8Array.of(9, 9), storage));
    expect(r.writes).toEqual([{ key: new Uint8Array(LAST), value: Uint8Array.of(9, 9) }]);
  });

  it('keeps the storage quota: a write past it is refused (FULL) and nothing is written', () => {
    const r = executePvmAccumulate(code, job(Uint8Array.of(1, 2, 3), new Map(), { maxBytes: 4, maxItems: 10 }));
    expect(r.writes).toEqual([]);
    // the test service treats a refused write as fatal
    expect(r.status).toBe('panic');
  });

  it('accumulates an operand whose refine failed without writing, and captures its log line', () => {
    const failed = {
      ...job(new Uint8Array(0)),
      operands: [{ packageHash: '0x' + '11'.repeat(32), payloadHash: '0x' + '22'.repeat(32), result: { panic: null } }],
    };
    const r = executePvmAccumulate(code, failed);
    expect(r).toMatchObject({ status: 'ok', writes: [], logs: ['[2] This is Accumulate in the Test Service 0h with 1 items'] });
  });
});
