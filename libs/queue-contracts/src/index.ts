export * from './queue-names.constants';
export * from './job-names.constants';
export * from './job-payload.schema';
export type * from './job.types';
export * from './job-id';
export * from './malformed-job.error';
export * from './default-job-options';
export * from './parse-job-payload';
export * from './package-status-event';
