export * from './attestation.processor';
