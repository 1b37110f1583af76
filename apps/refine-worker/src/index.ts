export * from './refine.processor';
export * from './refine-worker.role';
