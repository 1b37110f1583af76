export * from './jam.client';
export * from './jam-admin.client';
export * from './jam-client.errors';
export * from './jam-client.types';
export * from './sse';
