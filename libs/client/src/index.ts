export * from './jam.client';
export * from './jam-admin.client';
export * from './jam-client.errors';
export * from './jam-client.types';
export * from './sse';
/**
 * The Gray Paper work-package types (GP 0.7.2 section 14.3) a caller builds a package from, and the
 * helpers to hash (Blake2b-256, after `await initHashing()`) and encode it as the gateway does:
 * the server's own domain module, so client and server cannot disagree on a package hash. They
 * are part of the published package (`npm pack`), which has no `@jam/domain` of its own.
 */
export {
  type WorkPackage,
  type WorkItem,
  type RefineContext,
  type ImportSpec,
  type ExtrinsicSpec,
  type Hash,
  initHashing,
  blake2b256,
  packageHash,
  encodeWorkPackage,
  toHex,
  fromHex,
} from '@jam/domain';
