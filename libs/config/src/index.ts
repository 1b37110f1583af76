export * from './config.schema';
export * from './app-config';
