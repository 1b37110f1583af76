export * from './attestation.processor';
export * from './attestation.role';
