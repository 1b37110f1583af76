import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { toHex } from '@jam/domain';
import { parseHashArg } from '../cli.args';
import { CliUsageError, commandContext, type CliEnvironment } from '../cli.context';
import { uploadPreimageFile } from '../preimage-upload';

/** `jam preimage put|get|meta`. */
export function registerPreimageCommands(program: Command, env: CliEnvironment): void {
  const preimage = program.command('preimage').description('upload and fetch content-addressed preimages');

  preimage
    .command('put')
    .description('upload a file; prints its Blake2b-256 hash (progress on stderr above 1 MiB)')
    .argument('<file>', 'file to upload')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const r = await uploadPreimageFile(ctx, file);
      if (ctx.global.json) return ctx.json(r);
      ctx.out(r.hash);
      ctx.err(`${r.created ? 'stored' : 'already stored'}: ${r.length} bytes`);
    });

  preimage
    .command('get')
    .description('download a preimage (verified against its hash) to stdout or a file')
    .argument('<hash>', 'preimage hash (0x hex)', parseHashArg)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (hash: string, opts: { output?: string }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const bytes = await ctx.client.getPreimage(hash);
      if (opts.output !== undefined) {
        try {
          await writeFile(path.resolve(env.cwd, opts.output), bytes);
        } catch (err) {
          throw new CliUsageError(`cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
        if (ctx.global.json) return ctx.json({ hash, length: bytes.length, file: opts.output });
        ctx.err(`wrote ${bytes.length} bytes to ${opts.output}`);
        return;
      }
      if (ctx.global.json) return ctx.json({ hash, length: bytes.length, data: toHex(bytes) });
      env.stdout.write(bytes);
    });

  preimage
    .command('meta')
    .description('show length, refcount and storage tier of a preimage')
    .argument('<hash>', 'preimage hash (0x hex)', parseHashArg)
    .action(async (hash: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const meta = await ctx.client.preimageMeta(hash);
      if (ctx.global.json) return ctx.json(meta);
      printFields(ctx.out, {
        hash: meta.hash,
        length: `${meta.length} bytes`,
        refcount: meta.refcount,
        storage_tier: meta.storage_tier,
        created_at: meta.created_at,
      });
    });
}

/** Prints `key: value` lines with the values aligned. */
export function printFields(out: (line: string) => void, fields: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  for (const [k, v] of Object.entries(fields)) {
    const text = Array.isArray(v) ? (v.length ? v.join(', ') : '-') : v === null || v === undefined || v === '' ? '-' : String(v);
    out(`${`${k}:`.padEnd(width + 1)} ${text}`);
  }
}
