export * from './attester-key';
export * from './ed25519-strict';
export * from './guarantee-signature';
export * from './threshold';
