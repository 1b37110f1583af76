import type { WorkPackage } from '@jam/domain';

/**
 * A one-item work package for the word-count example service: zero context, empty
 * authorization, 10M refine gas and 1M accumulate gas (below G_A per package).
 */
export function wordCountPackage(serviceId: number, codeHash: Uint8Array, text: string): WorkPackage {
  const zero = new Uint8Array(32);
  return {
    authorization: new Uint8Array(0),
    auth_code_host: serviceId,
    auth_code_hash: codeHash,
    authorizer_config: new Uint8Array(0),
    context: { anchor: zero, state_root: zero, beefy_root: zero, lookup_anchor: zero, lookup_anchor_slot: 0, prerequisites: [] },
    items: [
      {
        service: serviceId,
        code_hash: codeHash,
        payload: new TextEncoder().encode(text),
        refine_gas_limit: 10_000_000n,
        accumulate_gas_limit: 1_000_000n,
        import_segments: [],
        extrinsic: [],
        export_count: 0,
      },
    ],
  };
}
