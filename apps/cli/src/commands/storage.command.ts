import type { Command } from 'commander';
import { parseServiceIdArg, storageKeyToHex } from '../cli.args';
import { commandContext, type CliEnvironment } from '../cli.context';
import { printFields } from './preimage.command';

/** `jam storage get`. */
export function registerStorageCommands(program: Command, env: CliEnvironment): void {
  const storage = program.command('storage').description("read a service's storage");

  storage
    .command('get')
    .description('read one storage value; key as 0x hex, or as text with --utf8')
    .argument('<service>', 'service id', parseServiceIdArg)
    .argument('<key>', 'storage key: 0x hex bytes, or text with --utf8')
    .option('--utf8', 'the key is text; its UTF-8 bytes are the key (words -> 0x776f726473)')
    .action(async (service: number, key: string, opts: { utf8?: boolean }, cmd: Command) => {
      const keyHex = storageKeyToHex(key, opts.utf8 === true);
      const ctx = commandContext(env, cmd);
      const entry = await ctx.client.getStorage(service, keyHex);
      if (ctx.global.json) return ctx.json(entry);
      const value = Buffer.from(entry.value.slice(2), 'hex');
      printFields(ctx.out, {
        service: entry.service_id,
        key: entry.key,
        value: entry.value,
        length: `${value.length} bytes`,
        ...(value.length === 8 ? { u64_le: value.readBigUInt64LE(0).toString() } : {}),
        ...(isPrintable(value) ? { utf8: JSON.stringify(value.toString('utf8')) } : {}),
      });
    });
}

function isPrintable(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  const text = bytes.toString('utf8');
  // eslint-disable-next-line no-control-regex -- control characters are what this test looks for
  return !text.includes('\ufffd') && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text);
}
