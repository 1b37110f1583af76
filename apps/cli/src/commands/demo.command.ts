import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { blake2b256, fromHex, initHashing, packageHash, toHex, type WorkItem, type WorkPackage } from '@jam/domain';
import { JamApiError, JamClientError, type PackageInfo } from '@jam/client';
import { parseSecondsArg } from '../cli.args';
import { CliFailure, commandContext, type CliEnvironment, type CommandContext } from '../cli.context';
import { verifyAttestation } from '../attestation.verify';
import { DEMO_PARAGRAPHS, generateText } from '../demo/demo-texts';
import { countWords, decodeU64Le, expectedWordCountState, ITEMS_KEY, WORDS_KEY } from '../word-count.reference';
import { describeResults } from './report.command';

/** Where `npm run build` puts the example service, relative to the repo root. */
export const WORD_COUNT_WASM = path.join('services', 'word-count', 'build', 'word-count.wasm');
/** Gas limits of every demo work item (the brief's values). */
/** Gas per work item for refine. */
const REFINE_GAS = 10_000_000n;
/** Gas per work item for accumulate; a package's total must stay below G_A = 10^7 (GP 0.7.2). */
const ACCUMULATE_GAS = 2_000_000n;
const DEFAULT_DEMO_TIMEOUT_MS = 180_000;
const ZERO_HASH = new Uint8Array(32);

/** `jam demo`: the whole flow against a running server, checked against a Node computation. */
export function registerDemoCommand(program: Command, env: CliEnvironment): void {
  program
    .command('demo')
    .description(
      'upload the word-count service, register it, submit 3 packages, follow them to accumulation ' +
        'and check the stored totals against a local count (exit 1 unless all of it holds)',
    )
    .option('--wasm <file>', `word-count Wasm to use (default: ${WORD_COUNT_WASM} of the repo)`)
    .option('--timeout <seconds>', 'give up waiting for the packages after this long (default 180)', parseSecondsArg)
    .action(async (opts: { wasm?: string; timeout?: number }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      try {
        const summary = await runDemo(ctx, { ...(opts.wasm ? { wasm: opts.wasm } : {}), timeoutMs: opts.timeout ?? DEFAULT_DEMO_TIMEOUT_MS });
        if (ctx.global.json) ctx.json(summary);
        ctx.out(`demo: OK: ${summary.packages.length} packages accumulated, words=${summary.words}, items=${summary.items}`);
      } catch (err) {
        const message = err instanceof JamClientError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
        if (ctx.global.json) ctx.json({ ok: false, error: message });
        ctx.out(`demo: FAILED: ${message}`);
        // a refused token keeps its code, so the CLI adds where the token came from
        throw new CliFailure(err instanceof JamClientError && err.code === 'unauthorized' ? 'unauthorized' : 'demo_failed', message, true);
      }
    });
}

/** Outcome of a successful demo run. */
export interface DemoSummary {
  ok: true;
  service_id: number;
  code_hash: string;
  packages: { hash: string; items: number; words: number; status: string }[];
  words: bigint;
  items: bigint;
}

/**
 * Finds the word-count Wasm: `--wasm` if given, else next to the build output
 * (dist/apps/cli/src -> repo root), next to the sources (apps/cli/src), or under `cwd`.
 *
 * @throws Error naming the places looked at and saying to run `npm run build`.
 */
export function resolveWordCountWasm(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const p = path.resolve(cwd, explicit);
    if (!existsSync(p)) throw new Error(`--wasm ${explicit}: no such file`);
    return p;
  }
  const candidates = [
    path.resolve(__dirname, '../../../../..', WORD_COUNT_WASM),
    path.resolve(__dirname, '../../../..', WORD_COUNT_WASM),
    path.resolve(cwd, WORD_COUNT_WASM),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`the word-count service is not built (looked for ${[...new Set(candidates)].join(', ')}): run npm run build`);
  }
  return found;
}

/**
 * The demo's payloads: 3 packages of 1, 2 and 3 items. The first carries `nonce`, so reruns
 * never produce a package the server has already seen.
 */
export function demoPayloads(nonce: string): Uint8Array[][] {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const [p0, p1, p2, p3] = DEMO_PARAGRAPHS as [string, string, string, string];
  return [[enc(`${p0}\nrun ${nonce}\n`)], [enc(p1), enc(generateText(1, 4096))], [enc(p2), enc(generateText(2, 3072)), enc(p3)]];
}

/** A work package of word-count items for `service` (all-zero refine context, empty authorization). */
export function demoPackage(service: number, codeHash: Uint8Array, payloads: Uint8Array[]): WorkPackage {
  const items: WorkItem[] = payloads.map((payload) => ({
    service,
    code_hash: codeHash,
    payload,
    refine_gas_limit: REFINE_GAS,
    accumulate_gas_limit: ACCUMULATE_GAS,
    import_segments: [],
    extrinsic: [],
    export_count: 0,
  }));
  return {
    authorization: new Uint8Array(0),
    auth_code_host: service,
    auth_code_hash: codeHash,
    authorizer_config: new Uint8Array(0),
    context: {
      anchor: ZERO_HASH,
      state_root: ZERO_HASH,
      beefy_root: ZERO_HASH,
      lookup_anchor: ZERO_HASH,
      lookup_anchor_slot: 0,
      prerequisites: [],
    },
    items,
  };
}

/** Runs the demo flow, printing each step; throws on the first check that does not hold. */
export async function runDemo(ctx: CommandContext, opts: { wasm?: string; timeoutMs: number }): Promise<DemoSummary> {
  const { client } = ctx;
  const now = ctx.env.now ?? Date.now;
  const started = now();
  const log = ctx.global.json ? ctx.err : ctx.out;
  const steps = 8;
  let step = 0;
  const say = (line: string): void => log(`[${++step}/${steps}] ${line}`);
  const short = (h: string): string => `${h.slice(0, 12)}…`;

  const health = await client.health();
  say(`server ${ctx.global.url}: ${health.status}`);

  const wasmPath = resolveWordCountWasm(ctx.env.cwd, opts.wasm);
  const code = new Uint8Array(await readFile(wasmPath));
  await initHashing();
  const codeHash = blake2b256(code);
  const up = await client.putPreimage(code);
  if (up.hash !== toHex(codeHash)) throw new Error(`server stored the code as ${up.hash}, locally it hashes to ${toHex(codeHash)}`);
  say(`code preimage ${up.hash} (${up.length} bytes, ${up.created ? 'new' : 'already stored'}) from ${path.relative(ctx.env.cwd, wasmPath) || wasmPath}`);

  const service = await client.createService({ code_hash: up.hash });
  say(`service ${service.id} registered (owner ${service.owner})`);

  const nonce = `${new Date(now()).toISOString()}-${Math.random().toString(36).slice(2, 10)}`;
  const payloadSets = demoPayloads(nonce);
  const packages = payloadSets.map((payloads) => demoPackage(service.id, codeHash, payloads));
  const hashes = packages.map((p) => toHex(packageHash(p)));
  say(`built ${packages.length} packages (run nonce ${nonce})`);
  payloadSets.forEach((payloads, i) => {
    const words = payloads.reduce((n, p) => n + countWords(p), 0);
    const bytes = payloads.reduce((n, p) => n + p.length, 0);
    log(`      package ${i + 1}: ${payloads.length} item(s), ${bytes} bytes, ${words} words, hash ${hashes[i]}`);
  });

  const first = packages[0] as WorkPackage;
  const dry = await client.submitPackage(first, { dryRun: true });
  if (dry.problems.length) {
    throw new Error(`dry run found problems: ${dry.problems.map((p) => `${p.path}: ${p.code}: ${p.message}`).join('; ')}`);
  }
  if (dry.hash !== hashes[0]) throw new Error(`dry run: server hash ${dry.hash} != local package hash ${hashes[0]}`);
  say(`dry run of package 1: server hash ${dry.hash} equals the local hash, no problems`);

  for (const [i, pkg] of packages.entries()) {
    const r = await client.submitPackage(pkg);
    if (r.hash !== hashes[i]) throw new Error(`package ${i + 1}: server hash ${r.hash} != local hash ${hashes[i]}`);
  }
  say(`submitted ${packages.length} packages; following them`);

  const finals: PackageInfo[] = await Promise.all(
    hashes.map((h, i) =>
      // the status stream (server-sent events), polling only when it is unavailable or breaks
      client.followPackage(h, {
        timeoutMs: opts.timeoutMs,
        onStatus: (p) => log(`      package ${i + 1} ${short(p.hash)} ${p.status}${p.error ? ` (${p.error.code}: ${p.error.message})` : ''}`),
        onFallback: (reason) => ctx.err(`jam: note: status stream of package ${i + 1} unavailable (${reason.message}); polling instead`),
      }),
    ),
  );
  const notDone = finals.map((p, i) => ({ p, i })).filter(({ p }) => p.status !== 'accumulated');
  if (notDone.length) {
    throw new Error(
      notDone.map(({ p, i }) => `package ${i + 1} ${p.hash} ended ${p.status}${p.error ? ` (${p.error.code}: ${p.error.message})` : ''}`).join('; '),
    );
  }
  say(`all ${finals.length} packages accumulated`);

  for (const [i, h] of hashes.entries()) {
    const report = await client.getReport(h);
    const valid = report.attestations.filter((a) => verifyAttestation(report.report_hash, a)).length;
    log(
      `      report of package ${i + 1}: ${report.report_hash}, ${valid}/${report.attestations.length} valid attestations ` +
        `(threshold ${report.threshold}), verdict ${report.verdict}, results ${describeResults(report).join(',') || '-'}`,
    );
    if (valid < report.threshold) {
      throw new Error(`report of package ${i + 1}: only ${valid} valid attestations, threshold ${report.threshold}`);
    }
  }

  const expected = expectedWordCountState(payloadSets.flat());
  const words = await readU64(ctx, service.id, WORDS_KEY);
  const items = await readU64(ctx, service.id, ITEMS_KEY);
  say(`storage of service ${service.id}: words=${words} (expected ${expected.words}), items=${items} (expected ${expected.items})`);
  if (words !== expected.words || items !== expected.items) {
    throw new Error(`storage words=${words}, items=${items}; a local count gives words=${expected.words}, items=${expected.items}`);
  }
  log(`      done in ${((now() - started) / 1000).toFixed(1)} s`);

  return {
    ok: true,
    service_id: service.id,
    code_hash: up.hash,
    packages: finals.map((p, i) => ({
      hash: p.hash,
      items: payloadSets[i]?.length ?? 0,
      words: (payloadSets[i] ?? []).reduce((n, x) => n + countWords(x), 0),
      status: p.status,
    })),
    words,
    items,
  };
}

/** Reads a u64 LE storage value; an absent key is reported as such, not as a 404. */
async function readU64(ctx: CommandContext, service: number, key: Uint8Array): Promise<bigint> {
  const name = new TextDecoder().decode(key);
  try {
    const entry = await ctx.client.getStorage(service, key);
    return decodeU64Le(fromHex(entry.value));
  } catch (err) {
    if (err instanceof JamApiError && err.code === 'not_found') throw new Error(`storage key ${name} (${toHex(key)}) of service ${service} is not set`);
    if (err instanceof RangeError) throw new Error(`storage key ${name} of service ${service}: ${err.message}`);
    throw err;
  }
}
