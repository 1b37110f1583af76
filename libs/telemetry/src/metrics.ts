import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The product's Prometheus metrics. WARNING: dashboards and alert rules in deploy/ refer to these
 * names; renaming one breaks them.
 */
export class JamMetrics {
  readonly registry = new Registry();

  /** HTTP requests by route template, method and status. */
  readonly httpRequests = new Counter({
    name: 'jam_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  /** HTTP request duration, seconds. */
  readonly httpDuration = new Histogram({
    name: 'jam_http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'jam_rate_limited_total',
    help: 'Requests refused by a rate limit',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly quotaRejected = new Counter({
    name: 'jam_quota_rejected_total',
    help: 'Requests refused by a quota or size cap',
    labelNames: ['quota'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'jam_auth_failures_total',
    help: 'Requests refused for missing or bad credentials',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Jobs by queue, job name and outcome (completed, retry, failed). */
  readonly jobs = new Counter({
    name: 'jam_jobs_total',
    help: 'Jobs handled by queue, name and outcome',
    labelNames: ['queue', 'name', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'jam_job_duration_seconds',
    help: 'Job handler duration in seconds',
    labelNames: ['queue', 'name'] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  /**
   * Seconds a job waited in its queue before a worker started it: from when it became runnable
   * (enqueued, or its delay ended) to the start of its first attempt. Retries are not counted.
   */
  readonly queueWait = new Histogram({
    name: 'jam_queue_wait_seconds',
    help: "Seconds from enqueue (or end of delay) to the start of a job's first attempt",
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [this.registry],
  });
  /** Seconds from a package's submission (created_at) to `accumulated`, observed by the accumulate worker; retries included. */
  readonly packageAccumulateLatency = new Histogram({
    name: 'jam_package_accumulate_latency_seconds',
    help: 'Seconds from submission to accumulated, per package',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  /**
   * 1 when this process's last probe of a backing store succeeded, 0 when it failed or timed out
   * (5 s); `dependency` is `database` (SELECT 1) or `redis` (the queue's Redis, production only).
   * Sampled every 10 s by every process.
   */
  readonly dependencyUp = new Gauge({
    name: 'jam_dependency_up',
    help: 'Last probe of a backing store from this process: 1 reachable, 0 not',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'jam_queue_depth',
    help: 'Jobs per queue and state (waiting, delayed, active, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });
  /** Gas used by guest calls (refine, accumulate). */
  readonly gasUsed = new Counter({ name: 'jam_gas_used_total', help: 'Gas used by guest code', labelNames: ['phase'] as const, registers: [this.registry] });
  /** Guest results that were not ok (panic, out_of_gas, ...). */
  readonly sandboxTraps = new Counter({
    name: 'jam_sandbox_traps_total',
    help: 'Guest calls that ended other than ok',
    labelNames: ['phase', 'result'] as const,
    registers: [this.registry],
  });
  readonly attestations = new Counter({
    name: 'jam_attestations_total',
    help: 'Attestations by outcome (accepted, duplicate, invalid)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly disputes = new Counter({ name: 'jam_disputes_total', help: 'Packages marked disputed', registers: [this.registry] });
  readonly packages = new Counter({
    name: 'jam_packages_total',
    help: 'Packages reaching a status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly janitorRuns = new Counter({
    name: 'jam_janitor_runs_total',
    help: 'Janitor task runs by task and outcome',
    labelNames: ['task', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly janitorDeleted = new Counter({
    name: 'jam_janitor_deleted_total',
    help: 'Rows and blobs deleted by janitor storage tasks (retention, preimage GC, blob hygiene)',
    labelNames: ['task', 'kind'] as const,
    registers: [this.registry],
  });
  /** Corrupt blobs found by the janitor verifier or by a verified read (`GET /jam/preimages/{hash}`); kept and, on reads, marked `corrupt_at`. */
  readonly blobsCorrupt = new Counter({
    name: 'jam_blobs_corrupt_total',
    help: 'Blobs whose bytes no longer match their hash, found by the janitor verifier or a verified download (kept for an operator)',
    registers: [this.registry],
  });
  /**
   * Requests answered 503 `dependency_unavailable` because a backing store failed, by dependency
   * (`database`, `blob_store`). Alert `JamDependencyUnavailable`.
   */
  readonly dependencyUnavailable = new Counter({
    name: 'jam_dependency_unavailable_total',
    help: 'Requests answered 503 because a backing store (database, blob_store) was unavailable',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  /** Preimage uploads being received now, all principals (per-principal cap: max_concurrent_uploads). */
  readonly uploadsInFlight = new Gauge({
    name: 'jam_preimage_uploads_in_flight',
    help: 'Preimage uploads (PUT /jam/preimages) being received by this gateway process',
    registers: [this.registry],
  });
  /** 0/1 per readiness check (`database`, `queue`, `blob_store`), as of the last /readyz. */
  readonly readiness = new Gauge({
    name: 'jam_readiness',
    help: 'Result of the last readiness check per backing store (1 ok, 0 failing)',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });
  readonly reenqueued = new Counter({
    name: 'jam_reconciler_reenqueued_total',
    help: 'Jobs the reconciler re-enqueued',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  /**
   * Accumulations that found their service's storage over its quota (max_service_storage_bytes /
   * _items): `ran` (only writes that do not grow it succeed) or `refused` (larger than an executor
   * can be given: recorded storage_over_limit without running).
   */
  readonly storageOverQuota = new Counter({
    name: 'jam_service_storage_over_quota_total',
    help: 'Accumulations that started from service storage over its quota, by action (ran, refused)',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  /** Sandbox wall-clock kills in accumulate: `retry` (rolled back, counted), `final` (the max_accumulate_timeouts-th, recorded timed_out). */
  readonly accumulateTimeouts = new Counter({
    name: 'jam_accumulate_timeouts_total',
    help: 'Accumulate runs killed by the sandbox wall clock, by outcome (retry, final)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /**
   * Sandbox failures that are not a guest result, by phase (refine, accumulate), kind (wall_clock:
   * killed by the wall clock; executor: the executor crashed, was killed or reported an engine
   * fault; blob: the code or an extrinsic could not be read from the blob store, nothing ran) and
   * outcome: `retry` (counted, retried), `final` (the max_sandbox_failures-th, or for accumulate
   * wall-clock kills the max_accumulate_timeouts-th: the accumulation is recorded timed_out /
   * sandbox_failed / blob_unavailable, or the attester gives up on the package in refine).
   */
  readonly sandboxFailures = new Counter({
    name: 'jam_sandbox_failures_total',
    help: 'Sandbox runs that ended without a guest result, by phase, kind (wall_clock, executor, blob) and outcome (retry, final)',
    labelNames: ['phase', 'kind', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'jam_process_' });
  }
}
