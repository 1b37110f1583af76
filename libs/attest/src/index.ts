export * from './attester-key';
export * from './guarantee-signature';
export * from './threshold';
