export * from './reconcile.processor';
export * from './retention.task';
export * from './preimage-gc.task';
export * from './blob-hygiene.task';
export * from './janitor';
export * from './janitor.role';
