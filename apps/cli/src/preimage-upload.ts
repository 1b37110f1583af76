import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { createBlake2b256, initHashing, toHex } from '@jam/domain';
import type { PutPreimageResult, UploadProgress } from '@jam/client';
import { CliUsageError, type CliStream, type CommandContext } from './cli.context';

/** Files above this size (bytes) are streamed from disk and show progress on stderr. */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;

/**
 * Uploads a file as a preimage. Small files are read whole; larger ones are hashed in one streamed
 * pass and uploaded in a second, so memory stays flat whatever the size, with progress on stderr.
 *
 * @throws CliUsageError when the file is missing or not a regular file.
 */
export async function uploadPreimageFile(ctx: CommandContext, file: string): Promise<PutPreimageResult> {
  const full = path.resolve(ctx.env.cwd, file);
  const size = await fileSize(full, file);
  if (size <= PROGRESS_THRESHOLD_BYTES) return ctx.client.putPreimage(await readFile(full));

  await initHashing();
  const hasher = createBlake2b256();
  for await (const chunk of createReadStream(full)) hasher.update(chunk as Buffer);
  const hash = toHex(hasher.digest());
  const progress = new ProgressPrinter(ctx.env.stderr, `upload ${path.basename(file)}`, ctx.env.now ?? Date.now);
  const result = await ctx.client.putPreimage({ stream: createReadStream(full), length: size, hash }, (p) => progress.update(p));
  progress.done();
  return result;
}

async function fileSize(full: string, shown: string): Promise<number> {
  try {
    const st = await stat(full);
    if (!st.isFile()) throw new CliUsageError(`not a regular file: ${shown}`);
    return st.size;
  } catch (err) {
    if (err instanceof CliUsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    // `service create --code 0x34dc...` with a shortened hash lands here: say both readings
    if (code === 'ENOENT' && shown.startsWith('0x'))
      throw new CliUsageError(`${shown} is neither a full preimage hash (0x and 64 hex digits) nor a file that exists`);
    throw new CliUsageError(`cannot read ${shown}: ${code}`);
  }
}

const MIB = 1024 * 1024;

/**
 * Upload progress on stderr: one self-overwriting line on a terminal (at most every 100 ms),
 * otherwise a line per 10% so logs stay short.
 */
export class ProgressPrinter {
  private readonly started: number;
  private lastDraw = 0;
  private lastDecile = -1;
  private last: UploadProgress | undefined;

  constructor(
    private readonly stream: CliStream,
    private readonly label: string,
    private readonly now: () => number,
  ) {
    this.started = now();
  }

  update(p: UploadProgress): void {
    this.last = p;
    const t = this.now();
    if (this.stream.isTTY) {
      if (t - this.lastDraw < 100 && p.sentBytes < p.totalBytes) return;
      this.lastDraw = t;
      this.stream.write(`\r${this.line(p, t)}\x1b[K`);
    } else {
      const decile = p.totalBytes === 0 ? 10 : Math.floor((p.sentBytes / p.totalBytes) * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.stream.write(`${this.line(p, t)}\n`);
    }
  }

  done(): void {
    if (this.stream.isTTY && this.last) this.stream.write('\n');
  }

  private line(p: UploadProgress, t: number): string {
    const pct = p.totalBytes === 0 ? 100 : Math.floor((p.sentBytes / p.totalBytes) * 100);
    const secs = Math.max((t - this.started) / 1000, 0.001);
    const rate = p.sentBytes / MIB / secs;
    return `${this.label}: ${String(pct).padStart(3)}% ${(p.sentBytes / MIB).toFixed(1)}/${(p.totalBytes / MIB).toFixed(1)} MiB ${rate.toFixed(1)} MiB/s`;
  }
}
