export * from './reconcile.processor';
export * from './janitor';
