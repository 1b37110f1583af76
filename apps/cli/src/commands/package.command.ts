import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { parseJamJson } from '@jam/domain';
import { PACKAGE_STATUSES, type PackageBody, type PackageInfo, type PackageStatus } from '@jam/client';
import { parseHashArg, parseNonNegativeIntArg, parseSecondsArg, parseServiceIdArg } from '../cli.args';
import { CliFailure, CliUsageError, commandContext, type CliEnvironment, type CommandContext } from '../cli.context';
import { printFields } from './preimage.command';

const DEFAULT_WATCH_TIMEOUT_MS = 300_000;

/** `jam package submit|status|list`. */
export function registerPackageCommands(program: Command, env: CliEnvironment): void {
  const pkg = program.command('package').description('submit work packages and follow them');

  pkg
    .command('submit')
    .description('submit a work package: GP JSON (.json) or GP binary (.bin, sent as octet-stream)')
    .argument('<file>', 'package file (.json or .bin)')
    .option('--dry-run', 'only let the server decode, hash and check it; nothing is stored')
    .option('--watch', 'after submitting, follow the status stream until it is terminal (exit 1 unless accumulated)')
    .option('--timeout <seconds>', 'give up watching after this long (default 300)', parseSecondsArg)
    .action(async (file: string, opts: { dryRun?: boolean; watch?: boolean; timeout?: number }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const body = await readPackageFile(env.cwd, file);
      if (opts.dryRun) {
        const r = await ctx.client.submitPackage(body, { dryRun: true });
        if (ctx.global.json) ctx.json(r);
        else {
          ctx.out(r.hash);
          for (const p of r.problems) ctx.err(`problem: ${p.path}: ${p.code}: ${p.message}`);
          ctx.err(r.problems.length ? `dry run: ${r.problems.length} problem(s)` : 'dry run: no problems (nothing stored)');
        }
        if (r.problems.length) throw new CliFailure('invalid_package', `dry run found ${r.problems.length} problem(s)`);
        return;
      }
      const r = await ctx.client.submitPackage(body);
      if (!opts.watch) {
        if (ctx.global.json) return ctx.json(r);
        ctx.out(`${r.hash} ${r.status}`);
        return;
      }
      await watchPackage(ctx, r.hash, opts.timeout ?? DEFAULT_WATCH_TIMEOUT_MS);
    });

  pkg
    .command('status')
    .description('show a package status; --watch follows its status stream and prints every change until accumulated, failed or disputed')
    .argument('<hash>', 'package hash (0x hex)', parseHashArg)
    .option('--watch', 'follow until the status is terminal (exit 1 unless accumulated)')
    .option('--timeout <seconds>', 'give up watching after this long (default 300)', parseSecondsArg)
    .action(async (hash: string, opts: { watch?: boolean; timeout?: number }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      if (opts.watch) return watchPackage(ctx, hash, opts.timeout ?? DEFAULT_WATCH_TIMEOUT_MS);
      const info = await ctx.client.getPackage(hash);
      if (ctx.global.json) return ctx.json(info);
      printPackage(ctx, info);
    });

  pkg
    .command('retry')
    .description('run a failed package again (failures that were not guest outcomes: wall clock, executor, unavailable blob, storage limits)')
    .argument('<hash>', 'package hash (0x hex)', parseHashArg)
    .option('--watch', 'then follow until the status is terminal (exit 1 unless accumulated)')
    .option('--timeout <seconds>', 'give up watching after this long (default 300)', parseSecondsArg)
    .action(async (hash: string, opts: { watch?: boolean; timeout?: number }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const info = await ctx.client.retryPackage(hash);
      if (opts.watch) return watchPackage(ctx, hash, opts.timeout ?? DEFAULT_WATCH_TIMEOUT_MS);
      if (ctx.global.json) return ctx.json(info);
      printPackage(ctx, info);
    });

  pkg
    .command('list')
    .description("list a service's packages, one page")
    .argument('<service>', 'service id', parseServiceIdArg)
    .option('--status <status>', `only this status (${PACKAGE_STATUSES.join(', ')})`, parseStatusArg)
    .option('--limit <n>', 'page size (capped by the server)', parseNonNegativeIntArg)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (service: number, opts: { status?: PackageStatus; limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const page = await ctx.client.listPackages(service, {
        ...(opts.status !== undefined ? { status: opts.status } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      });
      if (ctx.global.json) return ctx.json(page);
      for (const p of page.items) ctx.out(`${p.hash}  ${p.status.padEnd(12)}  ${p.updated_at}`);
      if (page.next_cursor) ctx.err(`more: --cursor ${page.next_cursor}`);
    });
}

function parseStatusArg(value: string): PackageStatus {
  const found = PACKAGE_STATUSES.find((s) => s === value);
  if (!found) throw new InvalidArgumentError(`expected one of ${PACKAGE_STATUSES.join(', ')}`);
  return found;
}

/**
 * Reads a package file: `.bin` is GP binary, `.json` GP JSON (checked to be JSON here so a typo is a
 * usage error, not a server round trip); any other name is sniffed (a leading `{` means JSON).
 *
 * @throws CliUsageError for a missing file or malformed JSON.
 */
export async function readPackageFile(cwd: string, file: string): Promise<PackageBody> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(cwd, file));
  } catch (err) {
    throw new CliUsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const ext = path.extname(file).toLowerCase();
  const isJson = ext === '.json' || (ext !== '.bin' && bytes.toString('utf8', 0, 64).trimStart().startsWith('{'));
  if (!isJson) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const text = bytes.toString('utf8');
  try {
    parseJamJson(text);
  } catch (err) {
    throw new CliUsageError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { json: text };
}

/**
 * Prints every status change until terminal, following the package's status stream (server-sent
 * events) and polling when the stream is not available or breaks (a note on stderr says so); a
 * package that does not end `accumulated` is a `CliFailure`.
 */
export async function watchPackage(ctx: CommandContext, hash: string, timeoutMs: number): Promise<void> {
  const final = await ctx.client.followPackage(hash, {
    timeoutMs,
    onStatus: (p) => {
      if (ctx.global.json) ctx.env.stdout.write(`${JSON.stringify(p)}\n`);
      else ctx.out(`${new Date().toISOString().slice(11, 23)}  ${p.hash}  ${p.status}`);
    },
    onFallback: (reason) => {
      // stderr stays JSON-only under --json (errors), so the note is for people reading a terminal
      if (!ctx.global.json) ctx.err(`jam: note: status stream unavailable (${reason.message}); polling instead`);
    },
  });
  if (final.status !== 'accumulated') {
    const why = final.error ? `: ${final.error.code}: ${final.error.message}` : '';
    throw new CliFailure(`package_${final.status}`, `package ${final.hash} ended ${final.status}${why}`);
  }
}

function printPackage(ctx: CommandContext, p: PackageInfo): void {
  printFields(ctx.out, {
    hash: p.hash,
    status: p.status,
    service_ids: p.service_ids,
    report_hash: p.report_hash,
    error: p.error ? `${p.error.code}: ${p.error.message}` : null,
    created_at: p.created_at,
    updated_at: p.updated_at,
    accumulated_at: p.accumulated_at,
    retries: p.retries,
  });
}
