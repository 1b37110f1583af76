import { DomainError } from './domain-error';
import {
  GP_ACCUMULATE_GAS,
  GP_MAX_DEPENDENCY_ITEMS,
  GP_MAX_PACKAGE_EXPORTS,
  GP_MAX_PACKAGE_EXTRINSICS,
  GP_MAX_PACKAGE_IMPORTS,
  GP_MAX_PACKAGE_SIZE,
  GP_MAX_WORK_ITEMS,
  GP_REFINE_GAS,
  GP_SEGMENT_FOOTPRINT,
} from './gp-constants';
import { encodeWorkPackage } from './work-package.codec';
import type { WorkPackage } from './work-types';

/** One rule a package breaks: `path` is the JSON field path ('' = whole package), `code` stable. */
export interface ValidationProblem {
  path: string;
  code: string;
  message: string;
}

/**
 * Checks a structurally valid package (e.g. from `workPackageFromJson`) against the GP 0.7.2
 * work-package limits and returns every problem found (empty = valid). Codes:
 * - `too_few_items` / `too_many_items`: 1 <= |items| <= I = 16 (GP eq. 14.2)
 * - `too_many_exports`: Σ export_count <= W_X = 3072 (GP section 14.3)
 * - `too_many_imports`: Σ |import_segments| <= W_M = 3072 (GP section 14.3)
 * - `too_many_extrinsics`: Σ |extrinsic| <= T = 128 (GP section 14.3)
 * - `too_many_prerequisites`: |context.prerequisites| <= J = 8 (GP eq. 11.3, dependencies)
 * - `package_too_large`: |authorization| + |authorizer_config| + Σ (|payload| +
 *   |import_segments| * W_F + Σ extrinsic len) <= W_B = 13,791,360 bytes, W_F = 4,488
 *   (GP 0.7.2 eq. 14.5-14.7)
 * - `encoded_package_too_large`: the GP encoding of the package itself <= W_B bytes (our
 *   upload bound; the encoding is measured only when the items are otherwise in bounds)
 * - `zero_refine_gas` / `zero_accumulate_gas`: each item's gas limits > 0
 * - `refine_gas_exceeded` / `accumulate_gas_exceeded`: Σ refine_gas_limit < G_R and
 *   Σ accumulate_gas_limit < G_A (GP section 14.3)
 */
export function validateWorkPackage(pkg: WorkPackage): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const add = (path: string, code: string, message: string): void => {
    problems.push({ path, code, message });
  };

  if (pkg.items.length < 1) add('items', 'too_few_items', 'a work package needs at least 1 work item');
  if (pkg.items.length > GP_MAX_WORK_ITEMS) {
    add('items', 'too_many_items', `${pkg.items.length} work items exceed I = ${GP_MAX_WORK_ITEMS}`);
  }
  if (pkg.context.prerequisites.length > GP_MAX_DEPENDENCY_ITEMS) {
    add('context.prerequisites', 'too_many_prerequisites', `${pkg.context.prerequisites.length} prerequisites exceed J = ${GP_MAX_DEPENDENCY_ITEMS}`);
  }

  let exports = 0;
  let imports = 0;
  let extrinsics = 0;
  let refineGas = 0n;
  let accumulateGas = 0n;
  let dataSize = pkg.authorization.length + pkg.authorizer_config.length;
  pkg.items.forEach((it, i) => {
    exports += it.export_count;
    imports += it.import_segments.length;
    extrinsics += it.extrinsic.length;
    refineGas += it.refine_gas_limit;
    accumulateGas += it.accumulate_gas_limit;
    dataSize += it.payload.length + it.import_segments.length * GP_SEGMENT_FOOTPRINT;
    for (const x of it.extrinsic) dataSize += x.len;
    if (it.refine_gas_limit <= 0n) add(`items[${i}].refine_gas_limit`, 'zero_refine_gas', 'refine_gas_limit must be > 0');
    if (it.accumulate_gas_limit <= 0n) add(`items[${i}].accumulate_gas_limit`, 'zero_accumulate_gas', 'accumulate_gas_limit must be > 0');
  });

  if (exports > GP_MAX_PACKAGE_EXPORTS) add('items', 'too_many_exports', `${exports} exports exceed W_X = ${GP_MAX_PACKAGE_EXPORTS}`);
  if (imports > GP_MAX_PACKAGE_IMPORTS) add('items', 'too_many_imports', `${imports} imports exceed W_M = ${GP_MAX_PACKAGE_IMPORTS}`);
  if (extrinsics > GP_MAX_PACKAGE_EXTRINSICS) {
    add('items', 'too_many_extrinsics', `${extrinsics} extrinsics exceed T = ${GP_MAX_PACKAGE_EXTRINSICS}`);
  }
  if (refineGas >= GP_REFINE_GAS) add('items', 'refine_gas_exceeded', `total refine gas ${refineGas} must be below G_R = ${GP_REFINE_GAS}`);
  if (accumulateGas >= GP_ACCUMULATE_GAS) {
    add('items', 'accumulate_gas_exceeded', `total accumulate gas ${accumulateGas} must be below G_A = ${GP_ACCUMULATE_GAS}`);
  }
  if (dataSize > GP_MAX_PACKAGE_SIZE) {
    add('', 'package_too_large', `${dataSize} bytes of authorization, payloads, imports and extrinsics exceed W_B = ${GP_MAX_PACKAGE_SIZE}`);
  } else {
    const encoded = encodedSize(pkg);
    if (encoded !== undefined && encoded > GP_MAX_PACKAGE_SIZE) {
      add('', 'encoded_package_too_large', `encoded package of ${encoded} bytes exceeds W_B = ${GP_MAX_PACKAGE_SIZE}`);
    }
  }
  return problems;
}

function encodedSize(pkg: WorkPackage): number | undefined {
  try {
    return encodeWorkPackage(pkg).length;
  } catch (err: unknown) {
    // A field out of its GP type range is a structural error the JSON reader reports; only
    // size limits are this function's concern.
    if (err instanceof DomainError && err.code === 'invalid_encoding') return undefined;
    throw err;
  }
}
