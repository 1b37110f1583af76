export * from './accumulate.processor';
export * from './accumulate-worker.role';
