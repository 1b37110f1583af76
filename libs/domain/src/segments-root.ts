import { DomainError } from './domain-error';
import { blake2b256 } from './hashing';
import { GP_SEGMENT_SIZE } from './gp-constants';
import { toHex } from './hex';
import type { Hash, ImportSpec } from './work-types';

const LEAF = new TextEncoder().encode('leaf');
const NODE = new TextEncoder().encode('node');
const ZERO_HASH = new Uint8Array(32);

function hashConcat(...parts: Uint8Array[]): Hash {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return blake2b256(buf);
}

/** GP 0.7.2 appendix E eq. E.1 `N`: the node of a list of 32-byte hashes, split at ceil(n/2), `$node` prefix. */
function node(v: readonly Hash[]): Hash {
  if (v.length === 0) return ZERO_HASH;
  if (v.length === 1) return v[0]!;
  const mid = Math.ceil(v.length / 2);
  return hashConcat(NODE, node(v.slice(0, mid)), node(v.slice(mid)));
}

/**
 * GP 0.7.2 appendix E eq. E.4 `M`, the constant-depth binary Merkle root with Blake2b-256:
 * each item is hashed as H(`leaf` ++ item) (`C`, the constancy preprocessor), the list is padded
 * with the zero hash to the next power of two (at least 1), and inner nodes are
 * H(`node` ++ left ++ right). The empty list gives the zero hash. Requires `initHashing()`.
 */
export function constantDepthMerkleRoot(items: readonly Uint8Array[]): Hash {
  const width = items.length <= 1 ? 1 : 2 ** Math.ceil(Math.log2(items.length));
  const leaves: Hash[] = [];
  for (let i = 0; i < width; i++) leaves.push(i < items.length ? hashConcat(LEAF, items[i]!) : ZERO_HASH);
  return node(leaves);
}

/**
 * The segments root (exports root `e` of the availability spec, GP 0.7.2 eq. 14.x and
 * appendix E eq. E.4) of a package's exported segments, in export order: the constant-depth
 * Merkle root over the segments, each exactly W_G = 4104 bytes.
 * @throws DomainError('invalid_encoding') when a segment is not 4104 bytes.
 */
export function segmentsRoot(segments: readonly Uint8Array[]): Hash {
  segments.forEach((s, i) => {
    if (s.length !== GP_SEGMENT_SIZE) {
      throw new DomainError('invalid_encoding', `segment ${i}: must be ${GP_SEGMENT_SIZE} bytes, got ${s.length}`, { path: `segments[${i}]` });
    }
  });
  return constantDepthMerkleRoot(segments);
}

/**
 * Where an imported segment lives (GP 0.7.2 eq. 14.x ImportSpec): `root` is a segments root
 * (exports root of the exporting report) or, in the boxed form, the exporting work package's
 * hash; `index` is the segment's index among that report's exports.
 */
export interface SegmentAddress {
  /** `0x` hex, 32 bytes. */
  root: string;
  kind: 'segments_root' | 'package_hash';
  /** 0..32767 */
  index: number;
}

/** Bit 15 of an ImportSpec index marks the package-hash form (GP 0.7.2 appendix C, import spec encoding: E_2(i + 2^15) for h = r⊞). */
export const IMPORT_PACKAGE_HASH_FLAG = 0x8000;

/** The address of an ImportSpec: bit 15 of `index` set means `tree_root` is a work package hash. */
export function segmentAddress(spec: ImportSpec): SegmentAddress {
  const boxed = (spec.index & IMPORT_PACKAGE_HASH_FLAG) !== 0;
  return { root: toHex(spec.tree_root), kind: boxed ? 'package_hash' : 'segments_root', index: spec.index & (IMPORT_PACKAGE_HASH_FLAG - 1) };
}
