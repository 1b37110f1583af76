export * from './startup.error';
export * from './role-module';
export * from './start-roles';
export * from './process-entry';
export { StatusPublishingWorkPackageRepository } from './status-publishing.repository';
