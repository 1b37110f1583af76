/**
 * Payload text for `jam demo`: a few hand-written paragraphs plus deterministic generated text
 * that exercises every edge of the word-count rule (all six ASCII whitespace bytes, runs of
 * them, UTF-8 words, a no-break space that does not split a word).
 */

export const DEMO_PARAGRAPHS: readonly string[] = [
  'A work package is the unit of work a client hands to the machine. It names the services it\n' +
    'wants to run, carries a payload for each of them, and says how much gas each step may burn.\n' +
    'Nothing in it is trusted: the code is addressed by its hash, and every byte is checked.',

  'Refine is the expensive, stateless half. Several attesters run the same code on the same input\n' +
    'and must arrive at the same work report, byte for byte; each one signs the report hash, and\n' +
    'once enough distinct signatures agree the report is considered attested.',

  'Accumulate is the cheap, stateful half. It folds the results of an attested report into the\n' +
    "service's storage, exactly once and in order, so a counter kept there is the sum of every\n" +
    'result ever accepted - which is precisely what this demo reads back and checks.',

  '\t  Whitespace\tcomes in\x0bsix ASCII\x0cflavours:\r\nspace, tab, line feed, vertical tab, form feed\n' +
    'and carriage return.   Runs of them  count once;\u00a0a no-break space is not one of them,\n' +
    'nor are naïve, café, Zürich, 日本語 or emoji like 🚀 anything but ordinary words.  \n\n',
];

const VOCABULARY = [
  'join',
  'accumulate',
  'refine',
  'guarantee',
  'preimage',
  'service',
  'gas',
  'payload',
  'report',
  'attester',
  'blake2b',
  'ed25519',
  'segment',
  'extrinsic',
  'authorizer',
  'core',
  'slot',
  'anchor',
  'state',
  'root',
  'the',
  'a',
  'of',
  'and',
  'to',
  'in',
  'is',
  'it',
  'no',
  'yes',
  'über',
  'façade',
  'déjà-vu',
  'Ωmega',
  '42',
  '0x00',
  '—',
  '...',
  'end.',
  '(paren)',
  'e=mc²',
];
const SEPARATORS = [' ', ' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\x0b', '\x0c', ' \n\n\t ', '\r'];

/** mulberry32: a tiny deterministic PRNG, so the generated text is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * About `approxBytes` of generated text from `seed`. One word in 40 is glued to the next with a
 * no-break space (U+00A0), which the word count must treat as part of a single word.
 */
export function generateText(seed: number, approxBytes: number): string {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  let out = '';
  while (Buffer.byteLength(out) < approxBytes) {
    out += pick(VOCABULARY);
    out += rand() < 0.025 ? '\u00a0' : pick(SEPARATORS);
  }
  return out;
}
