/**
 * Test tiers are told apart by file name (jest.config.cjs projects; docs/architecture.md section 12,
 * "Test tiers"): a unit spec (`*.spec.ts`) runs one module in the Jest process and touches no
 * PostgreSQL, Redis, network socket or child process; those belong to `*.integration.spec.ts`
 * (in-process, real backing servers, executors or tools) or `*.e2e-spec.ts` (the product's own
 * processes). This scan reads each unit spec, and the test helpers it imports by relative path,
 * for the uses of those parts (comments stripped), and names the file and the use when one is
 * named as a unit test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SPEC_DIRS = ['apps', 'libs', 'test'];

/** What makes a spec integration or e2e: a label and the source patterns that show the use. */
const OUTSIDE_PARTS: { part: string; patterns: RegExp[] }[] = [
  {
    part: 'PostgreSQL',
    patterns: [
      /from\s+['"]pg['"]|require\(\s*['"]pg['"]\s*\)/,
      /\b(createDataSource|runMigrations|startEmbeddedPostgres|migrateBullMqPostgresSchema|createBullMqPostgresQueue|createTestDatabase|createMigratedDatabase)\s*\(/,
      /@electric-sql\/pglite/,
    ],
  },
  {
    part: 'Redis',
    patterns: [/from\s+['"]ioredis['"]|require\(\s*['"]ioredis['"]\s*\)/, /\b(createBullMqQueue|createRedisStatusEventBus|createTestRedis)\s*\(/],
  },
  {
    part: 'a child process',
    patterns: [/['"](node:)?child_process['"]/, /\bnew\s+SandboxPool\s*\(/, /\bJamProcess\b/, /\bcluster\.fork\s*\(/, /\bnew\s+Worker\s*\(/],
  },
  {
    part: 'the network',
    patterns: [
      /(from\s+|require\(\s*)['"](node:)?(net|http|https|http2|tls|dgram)['"]/,
      /\bcreateServer\s*\(/,
      /\.listen\s*\(/,
      /(^|[^.\w])fetch\s*\(/,
      /\b(startS3TestServer|startFakeServer)\s*\(/,
      /['"]s3rver['"]/,
    ],
  },
];

/** Every spec file of the repository, relative to the root, with `/` separators. */
function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'build') continue;
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...specFiles(rel));
    else if (/\.(spec|e2e-spec|test)\.[cm]?[jt]s$/.test(entry.name)) out.push(rel);
  }
  return out;
}

const tierOf = (file: string): 'unit' | 'integration' | 'e2e' | undefined =>
  file.endsWith('.integration.spec.ts') ? 'integration' : file.endsWith('.e2e-spec.ts') ? 'e2e' : file.endsWith('.spec.ts') ? 'unit' : undefined;

/** Source without comments (a comment may name a part it does not use) and type-only imports (types run nothing). */
const code = (file: string): string =>
  fs
    .readFileSync(path.join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/^\s*import\s+type\s[^;]*;/gm, '');

/**
 * A production module (apps/x/src, libs/x/src outside `testing/`) is the code under test: the
 * unit spec mocks or avoids its outside parts, so the scan does not follow it. Test helpers
 * (test/, bench/, libs/x/test, src/testing) are followed: using one is using what it starts.
 */
const isProduction = (file: string): boolean => /^(apps|libs)\/[^/]+\/src\//.test(file) && !file.includes('/testing/');

/** Relative imports of `file` resolved to repository files (`.ts`, or a folder's index.ts). */
function relativeImports(file: string): string[] {
  const specs = [...code(file).matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.flatMap((s) => {
    const base = path.posix.join(path.posix.dirname(file), s);
    return [`${base}.ts`, `${base}/index.ts`, base].filter((c) => c.endsWith('.ts') && fs.existsSync(path.join(ROOT, c))).slice(0, 1);
  });
}

/** The file and the test helpers it reaches through relative imports, transitively. */
function withHelpers(spec: string): string[] {
  const seen = new Set<string>([spec]);
  const queue = [spec];
  while (queue.length > 0) {
    for (const dep of relativeImports(queue.shift()!)) {
      if (seen.has(dep) || isProduction(dep)) continue;
      seen.add(dep);
      queue.push(dep);
    }
  }
  return [...seen];
}

/** `spec: uses <part> (<file>: <match>)` for every outside part the spec or its helpers use. */
function outsideUses(spec: string): string[] {
  return withHelpers(spec).flatMap((file) => {
    const text = code(file);
    return OUTSIDE_PARTS.flatMap(({ part, patterns }) => {
      const hit = patterns.map((p) => p.exec(text)).find((m) => m !== null);
      return hit ? [`${spec}: uses ${part} (${file}: ${hit[0].trim()})`] : [];
    });
  });
}

describe('test tiers', () => {
  const specs = SPEC_DIRS.flatMap(specFiles);
  const units = specs.filter((f) => tierOf(f) === 'unit');

  it('finds the specs of every tier', () => {
    expect(units).toContain('apps/refine-worker/src/refine.processor.spec.ts');
    expect(specs).toContain('libs/persistence/test/postgres.integration.spec.ts');
    expect(specs).toContain('test/e2e/production.e2e-spec.ts');
    expect(units.length).toBeGreaterThan(30);
  });

  it('every spec file is named for one tier (*.spec.ts, *.integration.spec.ts, *.e2e-spec.ts)', () => {
    expect(specs.filter((f) => tierOf(f) === undefined)).toEqual([]);
  });

  it('no unit spec uses PostgreSQL, Redis, the network or a child process, itself or through a test helper', () => {
    expect(units.flatMap(outsideUses)).toEqual([]);
  });

  it('no integration spec starts the product’s own processes (jam-server’s process class, itself or through a helper): those are e2e', () => {
    const integrations = specs.filter((f) => tierOf(f) === 'integration');
    expect(integrations.length).toBeGreaterThan(20);
    const starters = integrations.flatMap((spec) =>
      withHelpers(spec)
        .filter((file) => /\bJamProcess\b/.test(code(file)))
        .map((file) => `${spec}: starts jam processes (${file})`),
    );
    expect(starters).toEqual([]);
  });

  it('the scan sees each kind of use, directly and through a helper', () => {
    expect(outsideUses('libs/persistence/src/database-unavailable.integration.spec.ts').join('\n')).toMatch(/uses PostgreSQL/);
    expect(outsideUses('libs/queue/src/bullmq.queue.integration.spec.ts').join('\n')).toMatch(/uses Redis/);
    expect(outsideUses('test/sandbox/determinism.integration.spec.ts').join('\n')).toMatch(/uses a child process \(.*new SandboxPool\(/);
    expect(outsideUses('libs/blob-store/src/s3-blob-store.integration.spec.ts').join('\n')).toMatch(/uses the network/);
    // through helpers only: the fuzz runner spawns node, the fake server listens
    expect(outsideUses('test/fuzz/differential.integration.spec.ts').join('\n')).toMatch(/uses a child process \(bench\/fuzz\/differential\.runner\.ts:/);
    expect(outsideUses('apps/cli/src/cli.program.integration.spec.ts').join('\n')).toMatch(/uses the network/);
    expect(outsideUses('test/accumulate/sandbox-failures.e2e-spec.ts').join('\n')).toMatch(/uses a child process \(test\/support\/jam-server\.ts:/);
  });
});
