import { z } from 'zod';
import { DomainError } from '@jam/domain';

/** Parses a JSON body and validates it with `schema`. @throws DomainError('invalid_json' | 'invalid_request') naming the field. */
export function parseJsonBody<S extends z.ZodTypeAny>(raw: Buffer, schema: S): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new DomainError('invalid_json', 'body is not valid JSON');
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.') || '(body)';
    throw new DomainError('invalid_request', `${path}: ${issue.message}`, {
      path,
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}
