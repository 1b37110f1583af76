import { decodeWorkPackage } from '@jam/domain';

/**
 * The distinct preimage hashes (32-byte buffers) a GP 0.7.2-encoded work package references as
 * extrinsics (`items[i].extrinsic[j].hash`, GP 0.7.2 section 14.3). These are the references that
 * keep a preimage from the GC while the package row exists (docs/architecture.md section 9).
 * @returns none for bytes that do not decode as a package: the gateway stores only decodable
 *   packages, so such a row (tests, hand-made data) references nothing.
 */
export function extrinsicHashesOf(encoded: Uint8Array): Buffer[] {
  let items;
  try {
    items = decodeWorkPackage(encoded).items;
  } catch {
    return [];
  }
  const seen = new Map<string, Buffer>();
  for (const item of items) for (const x of item.extrinsic) seen.set(Buffer.from(x.hash).toString('hex'), Buffer.from(x.hash));
  return [...seen.values()];
}
