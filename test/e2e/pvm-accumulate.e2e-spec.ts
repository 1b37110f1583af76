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
import {
  addImm64,
  ECHO_REFINE,
  codeBlob,
  ecalli,
  HALT,
  loadImm,
  loadImm64,
  moveReg,
  RO_DATA_ADDRESS,
  storeIndU64,
  type Instruction,
} from '../../libs/sandbox/test/pvm-service.builder';

jest.setTimeout(PROCESS_TEST_TIMEOUT_MS);

const KEY = Buffer.from('operand\0');

const le = (n: number, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Math.floor(n / 256 ** i) % 256);

/**
 * A JAM service blob whose refine (pc 0) echoes the payload and whose accumulate (pc 5) stores its
 * first input: fetch(ω7 = ω1 - 4096, ω8 = 0, ω9 = 4096, ω10 = 15, ω11 = 0), then
 * write(key at ω1 - 8 of 8 bytes, value at ω1 - 4096 of the fetched length), then halt.
 */
function storeOperandService(): Uint8Array {
  const refine = ECHO_REFINE;
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

/** The fields of a work report (GP JSON) the operand tuple carries. */
interface ReportJson {
  package_spec: { hash: string; exports_root: string };
  authorizer_hash: string;
  auth_output: string;
  results: { accumulate_gas: number | bigint | string }[];
}

/** One accumulate host call of {@link accumulateScriptService}: registers to set, then `ecalli call`. */
interface Step {
  call: number;
  regs: Partial<Record<number, bigint>>;
}

/**
 * A JAM service blob whose refine echoes the payload (as `storeOperandService`) and whose
 * accumulate makes `steps` in order, then halts (`end: 'halt'`) or traps (`end: 'panic'`, opcode 0).
 * `roData` is at RO_DATA_ADDRESS (keys, values, memos the steps point at).
 */
function accumulateScriptService(steps: Step[], end: 'halt' | 'panic', roData: Uint8Array): Uint8Array {
  const refine = ECHO_REFINE;
  const accumulate: Instruction[] = steps.flatMap((st) => [...Object.entries(st.regs).map(([reg, v]) => loadImm64(Number(reg), v!)), ecalli(st.call)]);
  accumulate.push(end === 'halt' ? HALT : [0x00]);
  const refineAt = 10;
  const accumulateAt = refineAt + refine.flat().length;
  const code = codeBlob([[0x28, ...le(refineAt, 4)], [0x28, ...le(accumulateAt - 5, 4)], ...refine, ...accumulate]);
  const metadata = new TextEncoder().encode('accumulate-script');
  const ro = [...roData];
  return Uint8Array.from([metadata.length, ...metadata, ...le(ro.length, 3), ...le(0, 3), ...le(0, 2), ...le(8192, 3), ...ro, ...le(code.length, 4), ...code]);
}

const RO = BigInt(RO_DATA_ADDRESS);
const WRITE = 4;
const CHECKPOINT = 17;
const TRANSFER = 20;

describe('PVM accumulate with the GP host calls through the pipeline', () => {
  let pipeline: PipelineProcess;
  let suffix: string;
  let base: string;
  let token: string;
  /** The store-operand service of the first test (it has a GP account once accumulated). */
  let storeOperandId = 0;

  /** Registers `code`, submits one package to it and waits until the package is terminal; returns the service id and status. */
  async function runOnce(code: Uint8Array, text: string): Promise<{ serviceId: number; status: string; hash: string }> {
    const put = await pipeline.client.putPreimage(code);
    const service = await pipeline.client.createService({ code_hash: put.hash });
    const { status, hash } = await pipeline.finish(wordCountPackage(service.id, blake2b256(code), text));
    return { serviceId: service.id, status, hash };
  }

  async function storageValue(serviceId: number, key: Uint8Array): Promise<{ status: number; value?: string }> {
    const r = await api(base, token, 'GET', `/jam/services/${serviceId}/storage/${toHex(key)}`);
    return { status: r.status, value: r.json?.value };
  }

  beforeAll(async () => {
    pipeline = await startPipelineProcess('pvmacc');
    ({ suffix, base, token } = pipeline);
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('stores the operand tuple its accumulate fetched: package hash, payload hash and refine result (GP 0.7.2 encoding)', async () => {
    const text = `accumulated by a PVM service ${suffix}`;
    const { serviceId, status, hash } = await runOnce(storeOperandService(), text);
    storeOperandId = serviceId;
    expect(status).toBe('accumulated');
    const payload = new TextEncoder().encode(text);
    // 0 (an operand) ++ p ++ e ++ a ++ y ++ E(g) ++ O(ok) ++ ↕t (GP 0.7.2 section 12.3), from the report the API serves
    const { report } = (await pipeline.client.getReport(hash)) as unknown as { report: ReportJson };
    const hex = (h: string) => Buffer.from(h.replace(/^0x/, ''), 'hex');
    const w = new GpWriter();
    w.u8(0, 'kind');
    w.bytes(hex(hash));
    w.bytes(hex(report.package_spec.exports_root));
    w.bytes(hex(report.authorizer_hash));
    w.bytes(blake2b256(payload));
    w.compact(BigInt(String(report.results[0]!.accumulate_gas)), 'gas');
    w.u8(0, 'ok');
    w.blob(payload, 'output');
    w.blob(hex(report.auth_output), 'trace');
    expect(report.package_spec.hash).toBe(hash);
    const stored = await api(base, token, 'GET', `/jam/services/${serviceId}/storage/${toHex(KEY)}`);
    expect(stored.status).toBe(200);
    expect(stored.json.value).toBe(toHex(w.finish()));
  });

  it('keeps the state of the last checkpoint when accumulate panics (GP 0.7.2 B.7: y, not x)', async () => {
    const keyA = Buffer.from('ckpt-a\0\0');
    const keyB = Buffer.from('ckpt-b\0\0');
    const value = Buffer.from('kept');
    const ro = Buffer.concat([keyA, keyB, value]);
    const write = (keyAt: bigint): Step => ({ call: WRITE, regs: { 7: RO + keyAt, 8: 8n, 9: RO + 16n, 10: 4n } });
    // write a; checkpoint; write b; trap
    const code = accumulateScriptService([write(0n), { call: CHECKPOINT, regs: {} }, write(8n)], 'panic', ro);
    const { serviceId, status } = await runOnce(code, `checkpoint ${suffix}`);
    expect(status).toBe('accumulated');
    expect(await storageValue(serviceId, keyA)).toEqual({ status: 200, value: toHex(value) });
    expect((await storageValue(serviceId, keyB)).status).toBe(404);
  });

  it('delivers a deferred transfer to the receiver accumulate as its input in the same accumulation (GP 0.7.2 section 12, Δ+)', async () => {
    expect(storeOperandId).toBeGreaterThan(0);
    const memo = Buffer.alloc(128);
    memo.write(`memo ${suffix}`);
    const [amount, gas] = [7n, 100_000n];
    const code = accumulateScriptService([{ call: TRANSFER, regs: { 7: BigInt(storeOperandId), 8: amount, 9: gas, 10: RO } }], 'halt', memo);
    const { serviceId, status } = await runOnce(code, `transfer ${suffix}`);
    expect(status).toBe('accumulated');
    // the receiver (store-operand) stored its first input: 1 (a transfer) ++ E4(source) ++ E4(destination) ++ E8(amount) ++ memo ++ E8(gas)
    const w = new GpWriter();
    w.u8(1, 'kind');
    w.u32(serviceId, 'source');
    w.u32(storeOperandId, 'destination');
    w.u64(amount, 'amount');
    w.bytes(memo);
    w.u64(gas, 'gas');
    expect(await storageValue(storeOperandId, KEY)).toEqual({ status: 200, value: toHex(w.finish()) });
  });
});
