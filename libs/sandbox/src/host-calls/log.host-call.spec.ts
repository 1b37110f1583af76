import { sanitizeLog } from './log.host-call';

/** The documented rule (docs/service-abi.md, `log`), written the obvious way: the reference the fast escaper must match. */
function reference(level: number, bytes: Uint8Array, cut: boolean): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return `[${level}] ${safe}${cut ? ' [cut]' : ''}`;
}

describe('sanitizeLog (the log host call escaper)', () => {
  it('escapes control characters as \\uXXXX and keeps everything else', () => {
    expect(sanitizeLog(3, new TextEncoder().encode('a\nb\u001b[31m\u2028\u0085é😀'), false)).toBe('[3] a\\u000ab\\u001b[31m\\u2028\\u0085é😀');
    expect(sanitizeLog(0, new Uint8Array(3).fill(1), true)).toBe('[0] \\u0001\\u0001\\u0001 [cut]');
    expect(sanitizeLog(7, new TextEncoder().encode('plain'), false)).toBe('[7] plain');
  });

  it('matches the documented rule on every byte value, invalid UTF-8, C1 controls and a line of 1,024 control characters', () => {
    const cases = [
      Uint8Array.from({ length: 256 }, (_, i) => i),
      Uint8Array.from({ length: 1024 }, (_, i) => (i * 37) & 0xff),
      new Uint8Array(1024).fill(0x01),
      new TextEncoder().encode('\u0080\u009f\u2029x\u{10ffff}'.repeat(50)),
      new Uint8Array([0xc2, 0x85, 0xe2, 0x80, 0xa8, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98]),
      new Uint8Array(0),
    ];
    for (const bytes of cases) for (const cut of [false, true]) expect(sanitizeLog(5, bytes, cut)).toBe(reference(5, bytes, cut));
  });
});
