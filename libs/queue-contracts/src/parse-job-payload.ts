import { JOB_NAMES } from './job-names.constants';
import { JOB_PAYLOAD_SCHEMAS } from './job-payload.schema';
import { MalformedJobError } from './malformed-job.error';
import type { JobItem, JobName, JobPayload } from './job.types';

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/**
 * Validates a consumed payload against the schema of its job name.
 * @throws MalformedJobError (final) for an unknown name or a bad field, with the field's path.
 */
export function parseJobPayload<N extends JobName>(name: N, data: unknown): JobPayload<N>;
export function parseJobPayload(name: string, data: unknown): JobItem['payload'];
export function parseJobPayload(name: string, data: unknown): JobItem['payload'] {
  if (!isJobName(name)) throw new MalformedJobError(name, [], 'unknown job name');
  const result = JOB_PAYLOAD_SCHEMAS[name].safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedJobError(name, issue?.path ?? [], issue?.message ?? 'invalid payload');
  }
  return result.data;
}

/** Like {@link parseJobPayload} but returns the discriminated union, for a `switch (job.name)`. */
export function parseJob(name: string, data: unknown): JobItem {
  return { name, payload: parseJobPayload(name, data) } as JobItem;
}
