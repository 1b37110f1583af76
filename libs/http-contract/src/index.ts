export * from './error-status';
export * from './wire.schemas';
export * from './routes';
