/**
 * Gray Paper v0.7.2 protocol constants (appendix I.4.4, "Constants"), named after their GP
 * symbols. These values are the same in the full and the `tiny` chain specs, except G_R
 * where the full value is used. Sizes are in bytes (octets), gas in gas units.
 */

/**
 * The Gray Paper version this product implements: codecs, report hash, guarantee signatures,
 * work results and constants follow it. The single named place for the protocol version
 * (docs/service-abi.md, "Moving to GP 0.8.0"); change it only with vectors of the new version.
 */
export const GP_PROTOCOL_VERSION = '0.7.2';

/** GP `I`: the maximum number of work items in a package (and minimum is 1). */
export const GP_MAX_WORK_ITEMS = 16;

/** GP `J`: the maximum number of dependency items (prerequisites + segment-root lookups) in a report. */
export const GP_MAX_DEPENDENCY_ITEMS = 8;

/** GP `T`: the maximum number of extrinsics in a work package (summed over its items). */
export const GP_MAX_PACKAGE_EXTRINSICS = 128;

/** GP `W_M`: the maximum number of imported segments in a work package. */
export const GP_MAX_PACKAGE_IMPORTS = 3_072;

/** GP `W_G` = W_P * W_E = 6 * 684: the size of one exported/imported segment in bytes. */
export const GP_SEGMENT_SIZE = 4_104;

/**
 * GP `W_F` = W_G + 32·⌈log2(W_M)⌉ = 4,488 (GP 0.7.2 eq. 14.6): what one imported segment counts
 * toward W_B in bytes, the segment plus its justification in the Audit DA.
 */
export const GP_SEGMENT_FOOTPRINT = GP_SEGMENT_SIZE + 32 * Math.ceil(Math.log2(GP_MAX_PACKAGE_IMPORTS));

/**
 * GP `W_B` = W_M·W_F + 4096 + 64 + 64 = 13,791,360 (GP 0.7.2 eq. 14.7; appendix I.4.4): the
 * maximum, in bytes, of a work package's authorization token + authorizer configuration + Σ over
 * its items of (payload + |imports|·W_F + extrinsic lengths) (eq. 14.5). GP 0.7.1 had
 * 13,794,305 (an older formula over the encoded package and W_G-sized imports); 0.7.2 changed
 * both. The one value of W_B in the product: package validation, upload bounds (we also bound
 * the encoded package itself by it) and the PVM `fetch` constants blob
 * (`libs/sandbox/src/pvm/accumulate/accumulate-state.ts`) all read it.
 */
export const GP_MAX_PACKAGE_SIZE = GP_MAX_PACKAGE_IMPORTS * GP_SEGMENT_FOOTPRINT + 4096 + 64 + 64;

/** GP `W_X`: the maximum number of exported segments in a work package. */
export const GP_MAX_PACKAGE_EXPORTS = 3_072;

/** GP `W_R` = 48 * 2^10: the maximum total size in bytes of a report's outputs (results + auth output). */
export const GP_MAX_REPORT_OUTPUT_SIZE = 48 * 1024;

/** GP `W_C`: the maximum size in bytes of a service's code. */
export const GP_MAX_SERVICE_CODE_SIZE = 4_000_000;

/** GP `W_A`: the maximum size in bytes of is-authorized code. */
export const GP_MAX_AUTHORIZER_CODE_SIZE = 64_000;

/** GP `G_A`: the gas allocated to accumulate one work report (bounds a package's total accumulate gas). */
export const GP_ACCUMULATE_GAS = 10_000_000n;

/** GP `G_R`: the gas allocated to refine one work package (bounds a package's total refine gas). */
export const GP_REFINE_GAS = 5_000_000_000n;
