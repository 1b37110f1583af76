import type { Command } from 'commander';
import type { Service } from '@jam/client';
import { collect, parseNonNegativeIntArg, parseServiceIdArg } from '../cli.args';
import { commandContext, type CliEnvironment, type CommandContext } from '../cli.context';
import { uploadPreimageFile } from '../preimage-upload';
import { printFields } from './preimage.command';

const HASH_RE = /^0x[0-9a-fA-F]{64}$/;

/** `jam service create|get|list`. */
export function registerServiceCommands(program: Command, env: CliEnvironment): void {
  const service = program.command('service').description('register and inspect services');

  service
    .command('create')
    .description('register a service; --code is a stored code hash or a .wasm file (uploaded first)')
    .requiredOption('--code <hash|file>', 'code preimage hash (0x hex) or a Wasm file to upload')
    .option('--delegate <token-id>', 'a delegate allowed to act for the service (repeatable)', collect)
    .option('--min-item-gas <gas>', 'minimum refine gas per work item', parseNonNegativeIntArg)
    .option('--min-memo-gas <gas>', 'minimum accumulate gas per work item', parseNonNegativeIntArg)
    .action(async (opts: { code: string; delegate?: string[]; minItemGas?: number; minMemoGas?: number }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      let codeHash: string;
      if (HASH_RE.test(opts.code)) {
        codeHash = opts.code.toLowerCase();
      } else {
        const up = await uploadPreimageFile(ctx, opts.code);
        codeHash = up.hash;
        if (!ctx.global.json) ctx.err(`uploaded ${opts.code}: ${up.hash} (${up.length} bytes, ${up.created ? 'new' : 'already stored'})`);
      }
      const created = await ctx.client.createService({
        code_hash: codeHash,
        ...(opts.delegate ? { delegates: opts.delegate } : {}),
        ...(opts.minItemGas !== undefined ? { min_item_gas: opts.minItemGas } : {}),
        ...(opts.minMemoGas !== undefined ? { min_memo_gas: opts.minMemoGas } : {}),
      });
      printService(ctx, created);
    });

  service
    .command('get')
    .description('show one service')
    .argument('<id>', 'service id', parseServiceIdArg)
    .action(async (id: number, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      printService(ctx, await ctx.client.getService(id));
    });

  service
    .command('list')
    .description('list services, one page')
    .option('--limit <n>', 'page size (capped by the server)', parseNonNegativeIntArg)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const page = await ctx.client.listServices({
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      });
      if (ctx.global.json) return ctx.json(page);
      for (const s of page.items) ctx.out(`${String(s.id).padStart(10)}  ${s.code_hash}  ${s.created_at}`);
      if (page.next_cursor) ctx.err(`more: --cursor ${page.next_cursor}`);
    });
}

function printService(ctx: CommandContext, s: Service): void {
  if (ctx.global.json) return ctx.json(s);
  printFields(ctx.out, {
    id: s.id,
    code_hash: s.code_hash,
    owner: s.owner,
    delegates: s.delegates,
    min_item_gas: s.min_item_gas,
    min_memo_gas: s.min_memo_gas,
    created_at: s.created_at,
  });
}
