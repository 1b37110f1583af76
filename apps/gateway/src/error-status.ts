/**
 * Domain error code -> HTTP status. The mapping lives in the HTTP contract
 * (`libs/http-contract/src/error-status.ts`) so the gateway, the OpenAPI document and the client's
 * fake server answer the same status for the same code.
 */
export { statusOf } from '@jam/http-contract';
