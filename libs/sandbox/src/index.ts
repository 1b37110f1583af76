export * from './cost-table';
export {
  HOST_NONE,
  HOST_WHAT,
  HOST_OOB,
  HOST_WHO,
  HOST_FULL,
  HOST_HUH,
  HOST_OK,
  MAX_SERVICE_CODE_BYTES,
  MAX_REFINE_OUTPUT_BYTES,
  DEFAULT_MEMORY_PAGES_CAP,
  MAX_STORAGE_KEY_BYTES,
  MAX_STORAGE_VALUE_BYTES,
  MAX_WRITE_SET_BYTES,
  MAX_WRITE_SET_KEYS,
  MAX_STORAGE_SNAPSHOT_BYTES,
  MAX_STORAGE_SNAPSHOT_ITEMS,
  MAX_LOG_LINES,
  MAX_LOG_BYTES,
} from './host-abi';
export { validateServiceCode, meterServiceCode } from './service-code.validator';
export { HOST_CALLS, type HostCallName } from './host-calls/host-call.registry';
export type { HostCall, HostEnv, HostJobContext } from './host-calls/host-call';
export {
  ENGINE_IDENTITY,
  MAX_GAS_LIMIT,
  type RefineRequest,
  type RefineOutcome,
  type AccumulateOperand,
  type AccumulateRequest,
  type AccumulateOutcome,
  type StorageQuota,
  type StorageFootprint,
  type CodeCheckOutcome,
} from './sandbox.types';
export {
  SandboxPool,
  SandboxExecutorError,
  SHORT_CALL_GAS,
  DEFAULT_EXECUTOR_ID,
  resolveExecutorIdentity,
  executorEntryPath,
  type SandboxPoolOptions,
  type PoolCallOptions,
} from './sandbox.pool';
export { describeTrap, formatTrap, trapFrames, trapKindOf, MAX_TRAP_FRAMES, type TrapInfo, type TrapKind, type TrapFrame } from './guest-trap';
export { sandboxFailureKind, type SandboxFailureKind } from './sandbox-failure';
export { exampleServicePath } from './example-services';
export {
  EXECUTOR_HEAP_MB,
  MAX_MODULE_INSTRUCTIONS,
  MAX_CONTROL_DEPTH,
  MAX_LOOP_DEPTH,
  MAX_MODULE_LOOPS,
  MAX_FUNCTION_LOOPS,
  MAX_METERED_FUNCTION_BYTES,
  MAX_DEFINED_FUNCTIONS,
} from './module-limits';
export { PVM_ENGINE_IDENTITY, PVM_HOST_CALL_GAS, type PvmExit } from './pvm/pvm.machine';
export { runPvmVector, type PvmVectorResult } from './pvm/pvm-vector.runner';
export { runPvm, type PvmEngineKind, type PvmLoad, type PvmMemoryView, type PvmRunResult } from './pvm/pvm.machine';
export { decodeCodeBlob, decodeServiceBlob, PvmProgramRejection } from './pvm/pvm-program';
export { detectCodeFormat, engineIdentityOf, reportEngineIdentity, type CodeFormat } from './code-format';
export { startCodeChecks, startSandboxPool, sharedSandboxPool, type SandboxPoolHost, type CodeChecks, type CodeCheckWarn } from './code-check';
export * from './pvm/host-call-ids';
export {
  accumulateStf,
  binaryMerkleRoot,
  initAccumulateHashing,
  type AccumulateStatistics,
  type AccumulateStfResult,
  type AccumulateStfState,
  type ReadyRecord,
} from './pvm/accumulate/accumulate-stf';
export { accumulateService, encodeOperand, type ServiceAccumulation } from './pvm/accumulate/accumulate-invocation';
export { AccumulateContext, accumulateHostCalls, type AccumulateInput, type DeferredTransfer } from './pvm/accumulate/accumulate-host-calls';
export * from './pvm/accumulate/accumulate-state';
export {
  checkAccumulateVector,
  compareAccumulateVector,
  parseAccumulateVector,
  runAccumulateVector,
  type AccumulateVector,
  type AccumulateVectorResult,
} from './pvm/accumulate/accumulate-vector.runner';
export {
  accumulateChainConfig,
  gpAccumulateGas,
  runGpAccumulateJob,
  type GpAccumulateJob,
  type GpAccumulateOutcome,
  type GpAccumulateLog,
  productWriteLimit,
  type GpChainSpec,
} from './pvm/accumulate/gp-accumulate-job';
