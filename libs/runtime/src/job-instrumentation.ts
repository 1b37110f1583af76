import { PermanentJobError, type ConsumedJob, type JobHandler } from '@jam/queue';
import { withJobSpan, type JamMetrics, type Logger } from '@jam/telemetry';

/**
 * The wrapper every consumer's handlers go through (`consume(..., { wrap })`): a CONSUMER span per
 * job, the child of the enqueuer's span; `jam_queue_wait_seconds` on the first attempt,
 * `jam_job_duration_seconds` and `jam_jobs_total{outcome}` (completed, retry, or failed when
 * final); a warning log per failed attempt. The handler's error is rethrown unchanged, so the
 * queue still decides retry vs final (docs/architecture.md section 12, habit 10).
 */
export function jobInstrumentation(metrics: JamMetrics, logger: Logger): (queueName: string) => (handler: JobHandler) => JobHandler {
  return (queueName) => (handler) => (job: ConsumedJob) =>
    withJobSpan({ queue: queueName, name: job.name, id: job.id, attempt: job.attempt, traceContext: job.traceContext }, async (span) => {
      if (job.attempt === 1 && job.readyAt !== undefined) metrics.queueWait.observe({ queue: queueName }, Math.max(0, Date.now() - job.readyAt) / 1000);
      const end = metrics.jobDuration.startTimer({ queue: queueName, name: job.name });
      try {
        await handler(job);
        metrics.jobs.inc({ queue: queueName, name: job.name, outcome: 'completed' });
        span.setAttribute('jam.job.outcome', 'completed');
      } catch (err) {
        const final = err instanceof PermanentJobError || (err as Error).name === 'MalformedJobError';
        metrics.jobs.inc({ queue: queueName, name: job.name, outcome: final ? 'failed' : 'retry' });
        span.setAttribute('jam.job.outcome', final ? 'failed' : 'retry');
        logger.warn({ err, queue: queueName, jobId: job.id, attempt: job.attempt, final }, 'job failed');
        throw err;
      } finally {
        end();
      }
    });
}
