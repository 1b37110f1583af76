export * from './jam.client';
export * from './jam-client.errors';
export * from './jam-client.types';
