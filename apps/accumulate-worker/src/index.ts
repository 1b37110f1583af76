export * from './accumulate.processor';
