/**
 * The one-account accumulate job for a PVM service (`SandboxPool.accumulate` with PVM code). The
 * accumulate worker no longer uses it for PVM services: it runs the GP accumulation over the
 * PostgreSQL partial state (`SandboxPool.gpAccumulate`, docs/service-abi.md "GP accumulate state").
 * Run with the GP accumulate host calls
 * (docs/service-abi.md, "PVM services"): what the accumulate worker sends an executor (the
 * operands, the service's storage snapshot, gas limit and storage quota) becomes a one-account
 * partial state and its inputs; the outcome is the product's (status, gas, write-set, logs).
 *
 * What maps and what does not (the product has no balances, other accounts, preimage requests,
 * privileges or accumulation output yet):
 * - `gas`, `fetch` (selectors 0, 1, 14, 15), `read`, `write`, `info`, `checkpoint`: as GP 0.7.2.
 *   `write` also keeps the product's limits (key at most MAX_STORAGE_KEY_BYTES: WHAT; value at
 *   most MAX_STORAGE_VALUE_BYTES, the write-set caps and the storage quota: FULL), and GP's
 *   balance check never refuses (the quota stands in for the balance).
 * - `log`: captured as for Wasm (sanitised, MAX_LOG_LINES lines of MAX_LOG_BYTES).
 * - every other GP call (`lookup`, `new`, `upgrade`, `transfer`, `eject`, `query`, `solicit`,
 *   `forget`, `yield`, `provide`, `bless`, `assign`, `designate`): WHAT, nothing changes.
 * - an operand is GP's tuple with the product's package hash, payload hash and result; exports
 *   root, authorizer hash and authorizer output are empty (zero hashes, empty blob) and its gas 0.
 *   Service id and timeslot are 0 (the job carries neither), η'_0 is 32 zero bytes; `fetch` 0
 *   answers the full chain spec's constants (FULL_ACCUMULATE_CONFIG).
 * - the write-set is returned only when the service halts (the product applies no writes of a
 *   failed accumulation; GP would keep the state of the last `checkpoint`).
 */
import { GpWriter } from '@jam/domain';
import { HOST_WHAT } from '../../host-abi';
import { finishPvmLogs, pvmLog, type PvmLogState } from '../pvm-log';
import { productWriteLimit } from './gp-accumulate-job';
import { MAX_GAS_LIMIT, type AccumulateOutcome } from '../../sandbox.types';
import type { AccumulateJob } from '../../service.executor';
import * as id from '../host-call-ids';
import { PVM_ACCUMULATE_ENTRY, type PvmServiceBlob } from '../pvm-program';
import { PVM_PRODUCT_ENGINE, runPvm, type PvmHostContext } from '../pvm.machine';
import { accumulateHostCalls, AccumulateContext, type AccumulateInput } from './accumulate-host-calls';
import { FULL_ACCUMULATE_CONFIG, type PartialState, type ServiceAccount } from './accumulate-state';

/** The GP calls this path answers; the rest answer WHAT (see the module comment). */
const MAPPED = new Set([id.PVM_HOST_GAS, id.PVM_HOST_FETCH, id.PVM_HOST_READ, id.PVM_HOST_WRITE, id.PVM_HOST_INFO, id.PVM_HOST_CHECKPOINT]);

function operandInputs(job: AccumulateJob): AccumulateInput[] {
  const zero = new Uint8Array(32);
  return job.operands.map((o) => {
    const w = new GpWriter();
    w.bytes(Buffer.from(o.packageHash.replace(/^0x/, ''), 'hex'));
    w.bytes(zero);
    w.bytes(zero);
    w.bytes(Buffer.from(o.payloadHash.replace(/^0x/, ''), 'hex'));
    w.compact(0, 'gas');
    w.bytes(encodeResult(o.result));
    w.blob(new Uint8Array(0), 'auth_output');
    return { kind: 'operand', encoded: w.finish(), gas: 0n };
  });
}

function encodeResult(r: AccumulateJob['operands'][number]['result']): Uint8Array {
  if ('ok' in r) {
    const w = new GpWriter();
    w.u8(0, 'result');
    w.blob(r.ok, 'ok');
    return w.finish();
  }
  return Uint8Array.of(['out_of_gas', 'panic', 'bad_exports', 'oversize', 'bad_code', 'code_oversize'].indexOf(Object.keys(r)[0]!) + 1);
}

function account(job: AccumulateJob): ServiceAccount {
  const storage = new Map([...job.storage].map(([k, v]) => [k.replace(/^0x/, ''), v]));
  let bytes = 0n;
  for (const [k, v] of storage) bytes += BigInt(34 + k.length / 2 + v.length);
  const info = { codeHash: new Uint8Array(32), balance: (1n << 64n) - 1n, minItemGas: 0n, minMemoGas: 0n, bytes, depositOffset: 0n, items: storage.size };
  return { info: { ...info, creationSlot: 0, lastAccumulationSlot: 0, parentService: 0 }, storage, preimages: new Map(), requests: new Map() };
}

/**
 * Runs `accumulate` (pc 5) of a PVM service for a product accumulate job with the GP host calls
 * mapped above. Deterministic: same code and job give the same outcome and gas.
 * @throws only on an engine fault of the PVM interpreter
 */
export function executeGpAccumulateJob(bytes: Uint8Array, service: PvmServiceBlob, job: AccumulateJob): AccumulateOutcome {
  const state: PartialState = {
    accounts: new Map([[0, account(job)]]),
    privileges: { manager: 0, assigners: [], delegator: 0, registrar: 0, alwaysAccumulate: new Map() },
    stagingSet: [],
    authQueues: [],
  };
  const inputs = operandInputs(job);
  const ctx = new AccumulateContext(0, 0, new Uint8Array(32), inputs, FULL_ACCUMULATE_CONFIG, state, 0);
  const written = new Map<string, Uint8Array | null>();
  // the Wasm `write` rules over the job's storage (keys without `0x`), shared with the GP path
  const stored = new Map([...job.storage].map(([k, v]) => [k.replace(/^0x/, ''), v]));
  ctx.writeLimit = productWriteLimit(stored, job.storageQuota, written);
  const logState: PvmLogState = { logs: [], droppedLogs: 0 };
  const gp = accumulateHostCalls(ctx);
  const onHostCall = (h: PvmHostContext): void | 'panic' | 'out-of-gas' => {
    const r = h.registers;
    if (h.index === id.PVM_HOST_LOG) return pvmLog(logState, h);
    if (!MAPPED.has(h.index)) {
      r[7] = HOST_WHAT;
      return;
    }
    return gp(h);
  };
  const w = new GpWriter();
  w.compact(0, 'timeslot');
  w.compact(0, 'service');
  w.compact(inputs.length, 'inputs');
  const limit = job.gasLimit < 0n ? 0n : job.gasLimit > MAX_GAS_LIMIT ? MAX_GAS_LIMIT : job.gasLimit;
  return runPvm(
    { kind: 'service', bytes, blob: service.program.blob, pc: PVM_ACCUMULATE_ENTRY, args: w.finish() },
    limit,
    onHostCall,
    (r): AccumulateOutcome => {
      const logs = finishPvmLogs(logState);
      if (r.exit === 'out-of-gas') return { status: 'out_of_gas', gasUsed: limit, writes: [], logs };
      if (r.exit !== 'halt') return { status: 'panic', gasUsed: limit - r.gasLeft, writes: [], logs };
      const writes = [...written].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, value]) => ({ key: new Uint8Array(Buffer.from(k, 'hex')), value }));
      return { status: 'ok', gasUsed: limit - r.gasLeft, writes, logs };
    },
    PVM_PRODUCT_ENGINE,
  );
}
