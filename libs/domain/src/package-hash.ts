import { blake2b256 } from './hashing';
import { encodeWorkPackage } from './work-package.codec';
import type { Hash, WorkPackage } from './work-types';

/**
 * The work-package hash: Blake2b-256 of the GP 0.7.2 encoding of the package (appendix C,
 * eq. C.28), 32 bytes. WARNING: consensus-critical; every stored package, job id and report
 * refers to packages by this value. Requires `initHashing()`.
 *
 * @throws DomainError('invalid_encoding') when a field does not fit its GP type.
 */
export function packageHash(pkg: WorkPackage): Hash {
  return blake2b256(encodeWorkPackage(pkg));
}
