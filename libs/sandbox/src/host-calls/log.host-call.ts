import { HOST_COPY_BYTES_PER_GAS } from '../cost-table';
import { HOST_OK, HOST_OOB, I32, I64, MAX_LOG_BYTES, MAX_LOG_LINES } from '../host-abi';
import { defineHostCall, gasForBytes, inGuestMemory } from './host-call';

const decoder = new TextDecoder('utf-8', { fatal: false });

function sanitizeLog(level: number, bytes: Uint8Array, cut: boolean): string {
  const text = decoder.decode(bytes);
  // escape control characters so a guest cannot forge log lines or terminal sequences
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
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
