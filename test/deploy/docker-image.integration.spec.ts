import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * docker/Dockerfile without a Docker engine (none on the project's machines): the runtime stage's
 * COPY and RUN lines are replayed into a temporary directory standing for the image's /app, from
 * this checkout's build output, and the server entry point and the `jam` command must be there
 * and run. Needs `npm run build` first (as `npm test` does).
 */

const root = path.resolve(__dirname, '..', '..');
const dockerfile = fs.readFileSync(path.join(root, 'docker', 'Dockerfile'), 'utf8');

/** Instructions of one stage, continuation lines joined, comments dropped. */
function stage(name: string): string[] {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const start = lines.findIndex((l) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${name}$`, 'i').test(l));
  if (start < 0) throw new Error(`no stage ${name} in docker/Dockerfile`);
  const end = lines.findIndex((l, i) => i > start && /^FROM\s/i.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Where a COPY source of the runtime stage comes from in this checkout (after `npm run build`). */
function sourceOf(from: string | undefined, src: string): string {
  if (from === undefined) return path.join(root, src);
  const known: Record<string, string> = { 'prod-deps:/src/node_modules': 'node_modules', 'build:/src/dist': 'dist', 'build:/out/services': 'services' };
  const rel = known[`${from}:${src}`];
  if (rel === undefined) throw new Error(`runtime stage copies ${src} from ${from}: teach this test where that comes from`);
  return path.join(root, rel);
}

const ignored = fs
  .readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('docker/Dockerfile runtime stage', () => {
  const runtime = stage('runtime');
  const workdir = /^WORKDIR\s+(\S+)/i.exec(runtime.find((l) => /^WORKDIR\s/i.test(l)) ?? '')?.[1];
  let image: string;

  beforeAll(() => {
    image = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-image-'));
    fs.mkdirSync(path.join(image, 'usr', 'local', 'bin'), { recursive: true });
    for (const line of runtime.filter((l) => /^COPY\s/i.test(l))) {
      const args = line.split(/\s+/).slice(1);
      const from = args.find((a) => a.startsWith('--from='))?.slice('--from='.length);
      const [src, dest] = args.filter((a) => !a.startsWith('--'));
      const dir = path.resolve(path.join(image, workdir!), dest!);
      const source = sourceOf(from, src!);
      // Docker: a directory's contents go into dest; a file into dest/ when dest ends with '/'.
      const target = fs.statSync(source).isFile() && dest!.endsWith('/') ? path.join(dir, path.basename(src!)) : dir;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      // node_modules is large: link it; copy everything else as the image would.
      if (src === '/src/node_modules') fs.symlinkSync(source, target);
      else fs.cpSync(source, target, { recursive: true });
    }
    // RUN ln -s <target> <link>: the image's way of putting `jam` on PATH.
    for (const m of runtime.join('\n').matchAll(/ln\s+-s\s+(\S+)\s+(\S+)/g)) {
      fs.symlinkSync(path.join(image, m[1]!), path.join(image, m[2]!));
    }
  });
  afterAll(() => fs.rmSync(image, { recursive: true, force: true }));

  it('sends bin/ and package.json in the build context', () => {
    for (const p of ['bin', 'package.json', 'bin/jam.js']) expect(ignored.filter((g) => g === p || p.startsWith(`${g}/`))).toEqual([]);
  });

  it('has the server entry point named by CMD', () => {
    const cmd = JSON.parse(/^CMD\s+(\[.*\])$/im.exec(runtime.join('\n'))![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(fs.existsSync(path.join(image, workdir!, cmd[1]!))).toBe(true);
  });

  it('puts a working `jam` command on PATH (/usr/local/bin/jam)', () => {
    const jam = path.join(image, 'usr', 'local', 'bin', 'jam');
    expect(fs.existsSync(jam)).toBe(true);
    expect(fs.statSync(jam).mode & 0o111).not.toBe(0);
    const r = spawnSync(jam, ['--help'], { encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: jam');
    expect(r.stdout).toContain('package');
  });
});
