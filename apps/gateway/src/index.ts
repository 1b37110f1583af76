export * from './gateway.deps';
export * from './gateway.app';
export { tokenDigest } from './bearer-token.guard';
