import { RequestMapping, RequestMethod, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { errorsOf, nestPath, statusOfApiError, type ApiErrorCode, type RouteContract } from '@jam/http-contract';

/** Names of the OpenAPI security schemes (`components.securitySchemes`, see `openapi.document.ts`). */
export const BEARER_SCHEME = 'bearer';
export const ADMIN_SCHEME = 'admin';

/** OpenAPI 3.0 schema of a zod schema (request bodies as the gateway parses them, answers as it sends them). */
export function openApiSchema(schema: z.ZodTypeAny): Record<string, unknown> {
  const { $schema: _drop, ...rest } = zodToJsonSchema(schema, { target: 'openApi3', $refStrategy: 'none', effectStrategy: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The error shape, with the route's codes of one status as an enum. */
function errorSchema(codes: readonly ApiErrorCode[]): Record<string, unknown> {
  return {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: [...codes] },
          message: { type: 'string' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
  };
}

/**
 * Declares a controller method as one route of the HTTP contract (`@jam/http-contract`): its
 * method and path for Nest, and for the OpenAPI document its operation, parameters, bodies,
 * answers, error responses (each status with its stable codes) and auth scheme. The document is
 * therefore generated from the controllers and cannot name a route that is not served.
 */
export function Endpoint(route: RouteContract): MethodDecorator {
  const decorators: (MethodDecorator | ClassDecorator)[] = [RequestMapping({ path: nestPath(route), method: RequestMethod[route.method] }), ApiTags(route.tag)];
  const requestBody =
    route.body === undefined
      ? undefined
      : {
          required: true,
          description: route.body
            .map((b) => `${b.contentType}: ${b.description}${b.maxBytes === undefined ? '' : ` (at most ${b.maxBytes} bytes)`}`)
            .join('; '),
          content: Object.fromEntries(
            route.body.map((b) => [b.contentType, { schema: b.schema === undefined ? { type: 'string', format: 'binary' } : openApiSchema(b.schema) }]),
          ),
        };
  decorators.push(ApiOperation({ operationId: route.operationId, summary: route.summary, ...(requestBody ? { requestBody } : {}) }));
  for (const [name, p] of Object.entries(route.params as Record<string, { description: string; pattern: RegExp; example?: string }>)) {
    decorators.push(
      ApiParam({
        name,
        required: true,
        description: p.description,
        schema: { type: 'string', pattern: p.pattern.source },
        ...(p.example ? { example: p.example } : {}),
      }),
    );
  }
  for (const [name, q] of Object.entries(route.query ?? {})) {
    decorators.push(ApiQuery({ name, required: false, description: q.description, schema: openApiSchema(q.schema) }));
  }
  for (const r of route.responses) {
    const contentType = r.contentType ?? 'application/json';
    const schema =
      r.schema !== undefined ? openApiSchema(r.schema) : contentType === 'application/octet-stream' ? { type: 'string', format: 'binary' } : { type: 'string' };
    decorators.push(ApiResponse({ status: r.status, description: r.description, content: { [contentType]: { schema } } }));
  }
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of errorsOf(route)) {
    const status = statusOfApiError(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    // A status that is also a documented answer (503 of /readyz) describes both bodies.
    const answer = route.responses.find((r) => r.status === status && r.schema !== undefined);
    const schema = answer?.schema === undefined ? errorSchema(codes) : { oneOf: [openApiSchema(answer.schema), errorSchema(codes)] };
    const description = answer === undefined ? `error codes: ${codes.join(', ')}` : `${answer.description}; or error codes: ${codes.join(', ')}`;
    decorators.push(ApiResponse({ status, description, content: { 'application/json': { schema } } }, { overrideExisting: true }));
  }
  if (route.auth === 'bearer') decorators.push(ApiBearerAuth(BEARER_SCHEME));
  else if (route.auth === 'admin') decorators.push(ApiSecurity(ADMIN_SCHEME));
  return applyDecorators(...decorators);
}
