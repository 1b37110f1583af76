import { HOST_COPY_BYTES_PER_GAS } from '../cost-table';
import { HOST_OK, HOST_OOB, I32, I64, MAX_LOG_BYTES, MAX_LOG_LINES } from '../host-abi';
import { defineHostCall, gasForBytes, inGuestMemory } from './host-call';

const decoder = new TextDecoder('utf-8', { fatal: false });
const utf16 = new TextDecoder('utf-16le');
// eslint-disable-next-line no-control-regex -- control characters are what this escapes
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HEX_DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * `[level] message` with the message decoded as UTF-8 (invalid bytes become U+FFFD) and every
 * control character (U+0000-U+001F, U+007F-U+009F, U+2028, U+2029) escaped as `\uXXXX`, so a guest
 * cannot forge log lines or terminal sequences (docs/service-abi.md, `log`); ` [cut]` appended when
 * the message was cut. The escapes are written into a UTF-16 buffer: a `String.replace` callback
 * per character cost about 150 ns each in an executor, so 64 lines of 1,024 control characters
 * took about 10 ms of a job for 82,000 gas (adversarial review of cost table v4).
 */
export function sanitizeLog(level: number, bytes: Uint8Array, cut: boolean): string {
  const text = decoder.decode(bytes);
  let safe = text;
  if (CONTROL.test(text)) {
    const out = new Uint16Array(text.length * 6);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
        out[n++] = 0x5c; // '\'
        out[n++] = 0x75; // 'u'
        for (let shift = 12; shift >= 0; shift -= 4) out[n++] = HEX_DIGITS[(c >> shift) & 15] as number;
      } else out[n++] = c;
    }
    safe = utf16.decode(out.subarray(0, n));
  }
  return `[${level}] ${safe}${cut ? ' [cut]' : ''}`;
}

/**
 * `log(level, msg_ptr, msg_len) -> i64`: captures `[level] message` (at most MAX_LOG_BYTES bytes
 * read, at most MAX_LOG_LINES lines per job, later ones counted as dropped); returns OK, or OOB if
 * the (cut) message is outside memory (docs/service-abi.md).
 * Price: base, then 1 gas per HOST_COPY_BYTES_PER_GAS bytes of the cut message (min(msg_len,
 * MAX_LOG_BYTES + 1)), charged whether the line is kept or dropped; a dropped line is not read.
 * WARNING: the price is consensus-relevant (docs/gas.md cost table v4).
 */
export const logHostCall = defineHostCall({
  params: [I32, I32, I32],
  results: [I64],
  price: { base: 1000n },
  handle(env, level, msgPtr, msgLen) {
    env.charge(this.price.base);
    const p = msgPtr >>> 0;
    const len = Math.min(msgLen >>> 0, MAX_LOG_BYTES + 1);
    if (!inGuestMemory(env, p, len)) return HOST_OOB;
    env.charge(gasForBytes(len, HOST_COPY_BYTES_PER_GAS));
    const job = env.job;
    if (job.logs.length < MAX_LOG_LINES) {
      const cut = len > MAX_LOG_BYTES;
      job.logs.push(sanitizeLog(level, env.memory().slice(p, p + (cut ? MAX_LOG_BYTES : len)), cut));
    } else job.droppedLogs++;
    return HOST_OK;
  },
});
