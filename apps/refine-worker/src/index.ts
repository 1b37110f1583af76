export * from './refine.processor';
