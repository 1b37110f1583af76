/**
 * Issue 9 item 3 end to end: the accumulate of a PVM service runs with the GP host calls in the
 * real pipeline (one production-mode process, PostgreSQL + Redis, every role). A service assembled
 * here echoes its payload in refine; its accumulate fetches its first input (GP `fetch` selector
 * 15: the operand tuple) and `write`s it under the key "operand"; the stored value, read back
 * through the gateway, is GP's operand encoding with this package's hash, payload hash and result.
 */
import { blake2b256, GpWriter, toHex } from '@jam/domain';
import { PROCESS_TEST_TIMEOUT_MS, api } from '../support/jam-server';
import { wordCountPackage } from '../support/fixtures';
import { startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';
import { addImm64, codeBlob, ecalli, HALT, loadImm, moveReg, storeIndU64, type Instruction } from '../../libs/sandbox/test/pvm-service.builder';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const KEY = Buffer.from('operand\0');

const le = (n: number, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Math.floor(n / 256 ** i) % 256);

/**
 * A JAM service blob whose refine (pc 0) echoes the payload and whose accumulate (pc 5) stores its
 * first input: fetch(ω7 = ω1 - 4096, ω8 = 0, ω9 = 4096, ω10 = 15, ω11 = 0), then
 * write(key at ω1 - 8 of 8 bytes, value at ω1 - 4096 of the fetched length), then halt.
 */
function storeOperandService(): Uint8Array {
  const refine: Instruction[] = [
    addImm64(7, 1, [0x00, 0xf0]),
    loadImm(8, []),
    loadImm(9, [0x00, 0x10]),
    loadImm(10, [13]),
    loadImm(11, []),
    ecalli(1),
    moveReg(8, 7),
    addImm64(7, 1, [0x00, 0xf0]),
    HALT,
  ];
  const accumulate: Instruction[] = [
    addImm64(7, 1, [0x00, 0xf0]),
    loadImm(8, []),
    loadImm(9, [0x00, 0x10]),
    loadImm(10, [15]),
    loadImm(11, []),
    ecalli(1),
    moveReg(10, 7),
    addImm64(9, 1, [0x00, 0xf0]),
    [0x14, 2, ...KEY],
    storeIndU64(2, 1, [0xf8]),
    addImm64(7, 1, [0xf8]),
    loadImm(8, [8]),
    ecalli(4),
    HALT,
  ];
  const refineAt = 10;
  const accumulateAt = refineAt + refine.flat().length;
  const code = codeBlob([[0x28, ...le(refineAt, 4)], [0x28, ...le(accumulateAt - 5, 4)], ...refine, ...accumulate]);
  const metadata = new TextEncoder().encode('store-operand');
  return Uint8Array.from([metadata.length, ...metadata, ...le(0, 3), ...le(0, 3), ...le(0, 2), ...le(8192, 3), ...le(code.length, 4), ...code]);
}

describe('PVM accumulate with the GP host calls through the pipeline', () => {
  let pipeline: PipelineProcess;

  beforeAll(async () => {
    pipeline = await startPipelineProcess('pvmacc');
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('stores the operand tuple its accumulate fetched: package hash, payload hash and refine result (GP 0.7.2 encoding)', async () => {
    const { client, suffix, base, token } = pipeline;
    const code = storeOperandService();
    const put = await client.putPreimage(code);
    const service = await client.createService({ code_hash: put.hash });
    const text = `accumulated by a PVM service ${suffix}`;
    const { status, hash } = await pipeline.finish(wordCountPackage(service.id, blake2b256(code), text));
    expect(status).toBe('accumulated');
    const payload = new TextEncoder().encode(text);
    // 0 (an operand) ++ p ++ e ++ a ++ y ++ E(g) ++ O(ok) ++ ↕t, as the product fills it (docs/service-abi.md)
    const w = new GpWriter();
    w.u8(0, 'kind');
    w.bytes(Buffer.from(hash.replace(/^0x/, ''), 'hex'));
    w.bytes(new Uint8Array(64));
    w.bytes(blake2b256(payload));
    w.compact(0, 'gas');
    w.u8(0, 'ok');
    w.blob(payload, 'output');
    w.compact(0, 'trace');
    const stored = await api(base, token, 'GET', `/jam/services/${service.id}/storage/${toHex(KEY)}`);
    expect(stored.status).toBe(200);
    expect(stored.json.value).toBe(toHex(w.finish()));
  });
});
