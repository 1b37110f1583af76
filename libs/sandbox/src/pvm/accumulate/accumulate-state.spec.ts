import { GP_MAX_PACKAGE_SIZE, GP_MAX_SERVICE_CODE_SIZE, GP_PROTOCOL_VERSION } from '@jam/domain';
import { FULL_ACCUMULATE_CONFIG, TINY_ACCUMULATE_CONFIG } from './accumulate-state';

/** Byte offset of a field in the fetch selector 0 blob (GP 0.7.2 appendix B, Ω_Y: the order and widths of `c`). */
const OFFSET = { W_B: 3 * 8 + 2 + 4 + 4 + 4 * 8 + 4 * 2 + 4 + 7 * 2 + 2 + 4, W_C: 3 * 8 + 2 + 4 + 4 + 4 * 8 + 4 * 2 + 4 + 7 * 2 + 2 + 4 + 4 };

const u32At = (blob: Uint8Array, at: number) => new DataView(blob.buffer, blob.byteOffset).getUint32(at, true);

describe('the protocol constants blob (fetch selector 0)', () => {
  it.each([
    ['full', FULL_ACCUMULATE_CONFIG],
    ['tiny', TINY_ACCUMULATE_CONFIG],
  ])('the %s chain spec carries the same W_B and W_C as the package validation (one named constant each)', (_name, config) => {
    // the field list and order are 0.7.2's: moving the protocol version fails here first (docs/service-abi.md, "Moving to GP 0.8.0")
    expect(GP_PROTOCOL_VERSION).toBe('0.7.2');
    expect(config.constantsBlob).toHaveLength(134);
    expect(u32At(config.constantsBlob, OFFSET.W_B)).toBe(GP_MAX_PACKAGE_SIZE);
    expect(u32At(config.constantsBlob, OFFSET.W_C)).toBe(GP_MAX_SERVICE_CODE_SIZE);
  });
});
