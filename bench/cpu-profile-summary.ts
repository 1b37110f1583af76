/**
 * Summarises V8 CPU profiles (`.cpuprofile` JSON, as `node --cpu-prof` writes them; the pipeline
 * bench's `--cpu-prof DIR`): self time per process by module and by function, to find where the
 * product's CPU per package goes (docs/performance.md section 14, "Where the time goes").
 *
 * Module = the npm package (`node_modules/<name>` or `<@scope/name>`), the project's own
 * `apps/<app>` or `libs/<lib>` (from dist paths), `node:<internal>` for Node's own JS, or V8's
 * pseudo-nodes `(garbage collector)`, `(program)` (native code outside JS: syscalls, libuv, the
 * compiler) and `(idle)`. Percentages are of the busy time (idle excluded).
 *
 * With `DIR/windows.json` (the pipeline bench writes it: `{system, round, packages, fromUs, toUs}`
 * per saturation window, µs of CLOCK_MONOTONIC, the clock of the profiles' timestamps) only the
 * samples inside the windows of the profile's system (first directory under DIR) count, and the
 * summary adds busy CPU ms per package; without it the whole process life counts (start-up too).
 *
 * Run (after `npm run build`): node dist/bench/cpu-profile-summary.js DIR [--top N]
 *   Every .cpuprofile under DIR, grouped by its directory (one role per directory).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The parts of a `.cpuprofile` this reads (Chrome DevTools Protocol `Profiler.Profile`). */
interface CpuProfile {
  /** µs, monotonic clock */
  startTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** node id per sample */
  samples: number[];
  /** µs since the previous sample, per sample */
  timeDeltas: number[];
}

/** A span of time to count, µs of the monotonic clock, and the packages that went through in it. */
interface Window {
  system: string;
  packages: number;
  fromUs: number;
  toUs: number;
}

/** Self time (µs) per key in one or more profiles. */
type Tally = Map<string, number>;

/** Module a call frame belongs to (see the file comment). */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const own = /\/dist\/((?:apps|libs)\/[^/]+)\//.exec(url);
  if (own !== null) return own[1]!;
  return path.basename(url);
}

/**
 * Coarse group of a module for the roll-up line: the database client, the queue client, socket
 * writes (the native write calls every client ends in), the project's own code, HTTP, V8's garbage
 * collector, Node's own JS, or other.
 */
export function groupOf(module: string, functionName: string): string {
  if (['pg', 'pg-protocol', 'pg-pool', 'typeorm', 'postgres-date', 'postgres-array', 'pg-types'].includes(module)) return 'db client';
  if (['bullmq', 'ioredis', 'msgpackr', 'redis-parser', 'denque', 'cluster-key-slot'].includes(module)) return 'queue client';
  if (module === '(native)' && /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(functionName)) return 'socket writes';
  if (module.startsWith('apps/') || module.startsWith('libs/')) return 'own code';
  if (
    [
      'express',
      'router',
      'body-parser',
      'content-type',
      'raw-body',
      'node:_http_server',
      'node:_http_outgoing',
      'node:_http_incoming',
      'node:_http_common',
    ].includes(module) ||
    module.startsWith('@nestjs/')
  )
    return 'http + nest';
  if (module === '(garbage collector)') return 'gc';
  if (module.startsWith('node:') || module === '(native)' || module === '(program)') return 'node + native';
  return 'other';
}

/** Adds one profile's self times to the module and function tallies. @returns busy µs (idle excluded) */
function tallyProfile(p: CpuProfile, windows: readonly Window[] | undefined, modules: Tally, functions: Tally, groups: Tally): number {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let busy = 0;
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (node === undefined || dt <= 0) continue;
    if (windows !== undefined && !windows.some((w) => at >= w.fromUs && at <= w.toUs)) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += dt;
    const mod = moduleOf(url, functionName);
    modules.set(mod, (modules.get(mod) ?? 0) + dt);
    const group = groupOf(mod, functionName);
    groups.set(group, (groups.get(group) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${mod}${url !== '' ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
  }
  return busy;
}

function top(t: Tally, busy: number, n: number): string[] {
  return [...t.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}

function profilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...profilesUnder(p));
    else if (e.endsWith('.cpuprofile')) out.push(p);
  }
  return out;
}

function main(): void {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: cpu-profile-summary DIR [--top N]');
  const i = process.argv.indexOf('--top');
  const n = i < 0 ? 12 : Number(process.argv[i + 1]);
  let windows: Window[] | undefined;
  try {
    windows = JSON.parse(readFileSync(path.join(dir, 'windows.json'), 'utf8')) as Window[];
  } catch {
    windows = undefined;
  }
  const groups = new Map<string, string[]>();
  for (const f of profilesUnder(dir)) {
    const g = path.relative(dir, path.dirname(f)) || '.';
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  for (const [g, files] of [...groups.entries()].sort()) {
    const modules: Tally = new Map();
    const functions: Tally = new Map();
    const rollup: Tally = new Map();
    let busy = 0;
    const mine = windows?.filter((w) => w.system === g.split(path.sep)[0]);
    for (const f of files) busy += tallyProfile(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, mine, modules, functions, rollup);
    const packages = mine?.reduce((s, w) => s + w.packages, 0);
    const perPackage =
      packages !== undefined && packages > 0 ? `, ${(busy / 1000 / packages).toFixed(2)} ms per package (${packages} packages in ${mine!.length} windows)` : '';
    console.log(`\n== ${g}: ${files.length} profile(s), busy ${(busy / 1000).toFixed(0)} ms${perPackage}`);
    console.log(
      `-- groups: ${[...rollup.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, us]) => `${k} ${((100 * us) / busy).toFixed(0)}%`)
        .join(', ')}`,
    );
    console.log('-- self time by module');
    for (const l of top(modules, busy, n)) console.log(l);
    console.log('-- self time by function');
    for (const l of top(functions, busy, n)) console.log(l);
  }
}

main();
