import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { localRunLimits } from '@jam/config';
import { parseJamJson, stringifyJamJson } from '@jam/domain';
import { formatTrap, type AccumulateOutcome, type RefineOutcome, type TrapInfo } from '@jam/sandbox';
import { parseNonNegativeIntArg } from '../cli.args';
import { CliFailure, CliUsageError, commandContext, type CliEnvironment, type CommandContext } from '../cli.context';
import { uploadPreimageFile } from '../preimage-upload';
import { runLocally } from '../service-project/local-run';
import { projectFiles, TEMPLATE_ACCUMULATE_GAS, TEMPLATE_PAYLOAD_HEX, TEMPLATE_REFINE_GAS } from '../service-project/project-template';
import { buildProject, findToolchain, projectDir, type Toolchain } from '../service-project/toolchain';

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/;
const WORK_PACKAGE_FILE = 'work-package.json';

/** `--payload`: `0x` hex bytes. */
function parsePayloadArg(value: string): string {
  if (!HEX_RE.test(value)) throw new InvalidArgumentError('expected 0x-prefixed hex bytes (0x for an empty payload)');
  return value.toLowerCase();
}

/** `jam init`, `jam build`, `jam run`, `jam deploy`: write, build, try and register a service (docs/service-guide.md). */
export function registerServiceProjectCommands(program: Command, env: CliEnvironment, toolchain: () => Toolchain = findToolchain): void {
  program
    .command('init')
    .description('create a service project in <dir> (AssemblyScript with @jam/service-sdk, a work-package template, a README)')
    .argument('<dir>', 'directory to create (must not exist or be empty)')
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const full = path.resolve(env.cwd, dir);
      if (existsSync(full) && (!statSync(full).isDirectory() || readdirSync(full).length > 0))
        throw new CliUsageError(`${dir} exists and is not an empty directory`);
      const files = projectFiles(
        path
          .basename(full)
          .toLowerCase()
          .replace(/[^a-z0-9._-]/g, '-') || 'jam-service',
        toolchain(),
      );
      for (const [rel, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(full, rel)), { recursive: true });
        await writeFile(path.join(full, rel), content, { flag: 'wx' });
      }
      if (ctx.global.json) return ctx.json({ dir: full, files: Object.keys(files) });
      ctx.out(`created ${full}`);
      for (const rel of Object.keys(files)) ctx.out(`  ${rel}`);
      ctx.out(`next: jam build ${dir} && jam run ${dir} --payload ${TEMPLATE_PAYLOAD_HEX}`);
    });

  program
    .command('build')
    .description("compile a service project to <dir>/build/service.wasm with this checkout's AssemblyScript and the repository's service flags")
    .argument('<dir>', 'service project directory (made by jam init)')
    .option('--force', 'compile even when the module is newer than the sources')
    .action(async (dir: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const full = projectDir(env.cwd, dir);
      const r = await buildProject(full, toolchain(), opts.force === true);
      if (ctx.global.json) return ctx.json(r);
      ctx.out(`${r.built ? 'built' : 'up to date'}: ${r.wasm} (${r.bytes} bytes)`);
    });

  registerRunCommand(program, env, toolchain);
  registerDeployCommand(program, env, toolchain);
}

/** `jam run <dir|file.wasm>`: refine then accumulate locally through the real sandbox (docs/service-guide.md). */
function registerRunCommand(program: Command, env: CliEnvironment, toolchain: () => Toolchain): void {
  program
    .command('run')
    .description(
      'run refine, then accumulate, locally in the same sandbox as the server (registration check, gas, limits); prints gas, result, writes and log lines',
    )
    .argument('<target>', 'a service project directory (built first if needed) or a .wasm file')
    .option('--payload <hex>', "the work item's payload, 0x hex (default: the project's work-package.json, else empty)", parsePayloadArg)
    .option('--gas <gas>', `refine gas limit (default: work-package.json, else ${TEMPLATE_REFINE_GAS})`, parseNonNegativeIntArg)
    .option('--accumulate-gas <gas>', `accumulate gas limit (default: work-package.json, else ${TEMPLATE_ACCUMULATE_GAS})`, parseNonNegativeIntArg)
    .option('--storage <file>', 'the service\'s storage as JSON {"0xkey": "0xvalue"}; read before, updated after an ok accumulate (created if missing)')
    .action(async (target: string, opts: { payload?: string; gas?: number; accumulateGas?: number; storage?: string }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const full = path.resolve(env.cwd, target);
      let wasm = full;
      let item: { payload?: string; refineGas?: number; accumulateGas?: number } = {};
      if (existsSync(full) && statSync(full).isDirectory()) {
        const dir = projectDir(env.cwd, target);
        const r = await buildProject(dir, toolchain());
        if (r.built && !ctx.global.json) ctx.err(`built ${r.wasm} (${r.bytes} bytes)`);
        wasm = r.wasm;
        item = await templateItem(path.join(dir, WORK_PACKAGE_FILE));
      } else if (!existsSync(full)) throw new CliUsageError(`no such file or directory: ${target}`);
      const code = new Uint8Array(await readFile(wasm));
      const storageFile = opts.storage === undefined ? undefined : path.resolve(env.cwd, opts.storage);
      const storage = storageFile === undefined ? new Map<string, Uint8Array>() : await readStorageFile(storageFile, opts.storage as string);
      const payloadHex = opts.payload ?? item.payload ?? '0x';
      const refineGas = BigInt(opts.gas ?? item.refineGas ?? TEMPLATE_REFINE_GAS);
      const accumulateGas = BigInt(opts.accumulateGas ?? item.accumulateGas ?? TEMPLATE_ACCUMULATE_GAS);
      let limits;
      try {
        limits = env.runLimits ? env.runLimits() : localRunLimits({});
      } catch (err) {
        throw new CliUsageError((err as Error).message);
      }
      const run = await runLocally({ code, payload: Buffer.from(payloadHex.slice(2), 'hex'), refineGas, accumulateGas, storage, limits });
      if (storageFile !== undefined && run.accumulate.status === 'ok') {
        for (const w of run.accumulate.writes) {
          const k = hex(w.key);
          if (w.value === null) storage.delete(k);
          else storage.set(k, w.value);
        }
        await writeFile(
          storageFile,
          `${JSON.stringify(Object.fromEntries([...storage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, hex(v)])), null, 2)}\n`,
        );
      }
      printRun(ctx, run.codeHash, refineGas, accumulateGas, run.refine, run.accumulate);
      const refineOk = 'ok' in run.refine.result;
      if (!refineOk || run.accumulate.status !== 'ok')
        throw new CliFailure('guest_failed', `refine ${Object.keys(run.refine.result)[0]}, accumulate ${run.accumulate.status}`, !ctx.global.json);
    });
}

/** `jam deploy <dir>`: build if needed, upload the code, register the service, fill in work-package.json. */
function registerDeployCommand(program: Command, env: CliEnvironment, toolchain: () => Toolchain): void {
  program
    .command('deploy')
    .description('build a service project if needed, upload its code, register the service and fill in its work-package.json')
    .argument('<dir>', 'service project directory (made by jam init)')
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const full = projectDir(env.cwd, dir);
      const built = await buildProject(full, toolchain());
      const up = await uploadPreimageFile(ctx, built.wasm);
      const service = await ctx.client.createService({ code_hash: up.hash });
      const wpFile = path.join(full, WORK_PACKAGE_FILE);
      const updated = await fillWorkPackage(wpFile, service.id, up.hash);
      const submitPath = path.relative(env.cwd, wpFile) || WORK_PACKAGE_FILE;
      const next = `jam package submit ${submitPath} --watch`;
      if (ctx.global.json)
        return ctx.json({
          service_id: service.id,
          code_hash: up.hash,
          wasm: built.wasm,
          bytes: built.bytes,
          uploaded: up.created,
          work_package: updated ? wpFile : null,
          next,
        });
      ctx.out(`service ${service.id} registered, code ${up.hash} (${built.bytes} bytes, ${up.created ? 'uploaded' : 'already stored'})`);
      if (updated) ctx.out(`${submitPath}: service ${service.id}, code hash ${up.hash}`);
      ctx.out(`next: ${next}`);
    });
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`;
}

/** Payload and gas of item 0 of a project's work-package.json, when it has one that parses. */
async function templateItem(file: string): Promise<{ payload?: string; refineGas?: number; accumulateGas?: number }> {
  if (!existsSync(file)) return {};
  let item: Record<string, unknown> | undefined;
  try {
    const pkg = parseJamJson(await readFile(file, 'utf8')) as { items?: Record<string, unknown>[] };
    item = pkg.items?.[0];
  } catch (err) {
    throw new CliUsageError(`${file}: ${(err as Error).message}`);
  }
  if (!item) return {};
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  const payload = typeof item['payload'] === 'string' && HEX_RE.test(item['payload']) ? item['payload'] : undefined;
  const refineGas = num(item['refine_gas_limit']);
  const accumulateGas = num(item['accumulate_gas_limit']);
  return { ...(payload ? { payload } : {}), ...(refineGas !== undefined ? { refineGas } : {}), ...(accumulateGas !== undefined ? { accumulateGas } : {}) };
}

/** `--storage` file: a JSON object of `0x` hex keys to `0x` hex values; a missing file is empty storage. */
async function readStorageFile(file: string, shown: string): Promise<Map<string, Uint8Array>> {
  if (!existsSync(file)) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliUsageError(`--storage ${shown}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliUsageError(`--storage ${shown}: expected a JSON object {"0xkey": "0xvalue"}`);
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(parsed)) {
    if (!HEX_RE.test(k) || k.length < 4 || typeof v !== 'string' || !HEX_RE.test(v) || v.length < 4)
      throw new CliUsageError(`--storage ${shown}: key ${JSON.stringify(k)}: keys and values must be non-empty 0x hex`);
    out.set(k.toLowerCase(), new Uint8Array(Buffer.from(v.slice(2), 'hex')));
  }
  return out;
}

/**
 * Writes the service id and code hash into the project's work package (items and the authorizer
 * host/hash, as docs/package-json.md step 2 says). @returns false when the project has no such file
 */
async function fillWorkPackage(file: string, serviceId: number, codeHash: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const pkg = parseJamJson(await readFile(file, 'utf8')) as Record<string, unknown> & { items?: Record<string, unknown>[] };
  pkg['auth_code_host'] = serviceId;
  pkg['auth_code_hash'] = codeHash;
  for (const item of pkg.items ?? []) {
    item['service'] = serviceId;
    item['code_hash'] = codeHash;
  }
  await writeFile(file, `${stringifyJamJson(pkg, 2)}\n`);
  return true;
}

/** A byte string for people: hex, plus the text when it is printable UTF-8. */
function showBytes(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8');
  // eslint-disable-next-line no-control-regex -- control characters are what this test looks for
  const printable = bytes.length > 0 && !text.includes('\ufffd') && !/[\u0000-\u001f\u007f]/.test(text);
  return `${hex(bytes)}${printable ? ` ${JSON.stringify(text)}` : ''}${bytes.length === 8 ? ` (u64 le ${Buffer.from(bytes).readBigUInt64LE(0)})` : ''}`;
}

function trapJson(trap: TrapInfo | undefined): unknown {
  return trap === undefined ? undefined : { ...trap, where: formatTrap(trap) };
}

function printRun(ctx: CommandContext, codeHash: string, refineGas: bigint, accumulateGas: bigint, refine: RefineOutcome, accumulate: AccumulateOutcome): void {
  const kind = Object.keys(refine.result)[0] ?? 'ok';
  const output = 'ok' in refine.result ? refine.result.ok : undefined;
  if (ctx.global.json) {
    return ctx.json({
      code_hash: codeHash,
      refine: {
        result: kind,
        ...(output ? { output: hex(output) } : {}),
        gas_used: refine.gasUsed,
        gas_limit: refineGas,
        logs: refine.logs,
        trap: trapJson(refine.trap),
      },
      accumulate: {
        status: accumulate.status,
        gas_used: accumulate.gasUsed,
        gas_limit: accumulateGas,
        writes: accumulate.writes.map((w) => ({ key: hex(w.key), value: w.value === null ? null : hex(w.value) })),
        logs: accumulate.logs,
        trap: trapJson(accumulate.trap),
      },
    });
  }
  ctx.out(`code ${codeHash}`);
  ctx.out(`refine: ${kind}, gas ${refine.gasUsed} of ${refineGas}`);
  if (output) ctx.out(`  output: ${showBytes(output)}`);
  if (refine.trap) ctx.out(`  trap: ${refine.trap.kind}: ${formatTrap(refine.trap)}`);
  for (const line of refine.logs) ctx.out(`  log ${line}`);
  ctx.out(`accumulate: ${accumulate.status}, gas ${accumulate.gasUsed} of ${accumulateGas}`);
  for (const w of accumulate.writes) ctx.out(`  write ${showBytes(w.key)} = ${w.value === null ? '(deleted)' : showBytes(w.value)}`);
  if (accumulate.trap) ctx.out(`  trap: ${accumulate.trap.kind}: ${formatTrap(accumulate.trap)}`);
  for (const line of accumulate.logs) ctx.out(`  log ${line}`);
}
