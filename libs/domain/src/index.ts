export * from './work-types';
export * from './domain-error';
