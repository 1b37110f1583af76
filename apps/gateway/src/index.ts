export * from './gateway.deps';
export * from './gateway.app';
export { tokenDigest } from './bearer-token.guard';
export { ADMIN_ROUTE_PREFIX } from './admin.controller';
export { ClientAddressPolicy } from './client-address';
export * from './gateway.role';
export { buildOpenApiDocument } from './openapi.document';
