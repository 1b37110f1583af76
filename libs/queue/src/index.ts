export * from './job-queue.port';
export * from './permanent-job.error';
export * from './in-process.queue';
export * from './bullmq.queue';
export * from './status-event-bus';
export * from './enqueue';
export * from './job-dispatcher';
