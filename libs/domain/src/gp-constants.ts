/**
 * Gray Paper v0.7.2 protocol constants (appendix I.4.4, "Constants"), named after their GP
 * symbols. These values are the same in the full and the `tiny` chain specs, except G_R
 * where the full value is used. Sizes are in bytes (octets), gas in gas units.
 */

/**
 * The Gray Paper version this product implements: codecs, report hash, guarantee signatures,
 * work results and constants follow it. The single named place for the protocol version
 * (docs/codec.md, "Moving to GP 0.8.0"); change it only with vectors of the new version.
 */
export const GP_PROTOCOL_VERSION = '0.7.2';

/** GP `I`: the maximum number of work items in a package (and minimum is 1). */
export const GP_MAX_WORK_ITEMS = 16;

/** GP `J`: the maximum number of dependency items (prerequisites + segment-root lookups) in a report. */
export const GP_MAX_DEPENDENCY_ITEMS = 8;

/** GP `T`: the maximum number of extrinsics in a work package (summed over its items). */
export const GP_MAX_PACKAGE_EXTRINSICS = 128;

/**
 * GP `W_B` = 13,794,305: the maximum size in bytes of a work package's authorization token,
 * authorizer configuration, payloads, imported segments and extrinsic data together
 * (GP 0.7.2 section 14.3); we also bound the encoded package itself by it.
 */
export const GP_MAX_PACKAGE_SIZE = 13_794_305;

/** GP `W_M`: the maximum number of imported segments in a work package. */
export const GP_MAX_PACKAGE_IMPORTS = 3_072;

/** GP `W_X`: the maximum number of exported segments in a work package. */
export const GP_MAX_PACKAGE_EXPORTS = 3_072;

/** GP `W_G` = W_P * W_E = 6 * 684: the size of one exported/imported segment in bytes. */
export const GP_SEGMENT_SIZE = 4_104;

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
