import { GP_MAX_PACKAGE_IMPORTS, GP_MAX_PACKAGE_SIZE, GP_SEGMENT_FOOTPRINT, GP_SEGMENT_SIZE } from './gp-constants';

describe('GP 0.7.2 work-package size constants (section 14.3)', () => {
  it('W_F = W_G + 32·⌈log2(W_M)⌉ = 4,488 bytes (eq. 14.6)', () => {
    expect(GP_SEGMENT_FOOTPRINT).toBe(GP_SEGMENT_SIZE + 32 * Math.ceil(Math.log2(GP_MAX_PACKAGE_IMPORTS)));
    expect(GP_SEGMENT_FOOTPRINT).toBe(4_488);
  });

  it('W_B = W_M·W_F + 4096 + 64 + 64 = 13,791,360 bytes (eq. 14.7), not the 0.7.1 value 13,794,305', () => {
    expect(GP_MAX_PACKAGE_SIZE).toBe(GP_MAX_PACKAGE_IMPORTS * GP_SEGMENT_FOOTPRINT + 4096 + 64 + 64);
    expect(GP_MAX_PACKAGE_SIZE).toBe(13_791_360);
  });
});
