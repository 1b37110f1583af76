import { z } from 'zod';
import { PACKAGE_STATUSES } from '@jam/domain';
import { hashSchema } from './job-payload.schema';

/**
 * Pub/sub channel (suffix; the bus adds the deployment's prefix) for package status changes.
 * WARNING: gateways subscribe by this name; renaming it silences live status streams until every
 * process runs the new name. Events are notifications only: the database row stays the truth,
 * and a missed event is recovered by reading the package.
 */
export const PACKAGE_STATUS_CHANNEL = 'package-status.v1' as const;

/** `package-status.v1`: one package reached `status` at `at` (ISO 8601). */
export const packageStatusEventV1Schema = z
  .object({
    package_hash: hashSchema,
    status: z.enum(PACKAGE_STATUSES),
    report_hash: hashSchema.nullable(),
    at: z.string().datetime(),
  })
  .strict();

export type PackageStatusEventV1 = z.infer<typeof packageStatusEventV1Schema>;
