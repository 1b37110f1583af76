import { blake2b256, initHashing, toHex } from '@jam/domain';
import { checkReportHash } from './attestation.verify';

describe('checkReportHash (jam report get)', () => {
  beforeAll(() => initHashing());

  it('is match when the report hash is Blake2b-256 of the served GP encoding, mismatch otherwise, legacy for format 1', () => {
    const encoded = toHex(new Uint8Array([1, 2, 3, 4]));
    const hash = toHex(blake2b256(new Uint8Array([1, 2, 3, 4])));
    expect(checkReportHash({ report_hash: hash, encoded, hash_format: 2 })).toBe('match');
    expect(checkReportHash({ report_hash: hash, encoded: '0x01020305', hash_format: 2 })).toBe('mismatch');
    expect(checkReportHash({ report_hash: hash, encoded: '0xzz', hash_format: 2 })).toBe('mismatch');
    expect(checkReportHash({ report_hash: hash, encoded, hash_format: 1 })).toBe('legacy');
  });
});
