export * from './blob-store.port';
export * from './filesystem-blob-store';
export * from './s3-blob-store';
export * from './tiered-blob-store';
export * from './store-marker';
export * from './blob-store-unavailable.error';
export * from './verifying-stream';
export * from './required-blob';
