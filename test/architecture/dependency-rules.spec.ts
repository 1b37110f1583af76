/**
 * The dependency rules that ESLint's @nx/enforce-module-boundaries cannot express (test/architecture/lint.integration.spec.ts
 * checks the rest: apps over libs, a pure domain, no sandbox in the gateway, the database only in
 * persistence), checked on the real import graph: a new import that breaks one fails this test,
 * naming the file and the import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const libs = fs.readdirSync(path.join(ROOT, 'libs'));
const apps = fs.readdirSync(path.join(ROOT, 'apps'));
const files = [...libs.map((l) => `libs/${l}/src`), ...apps.map((a) => `apps/${a}/src`)].filter((d) => fs.existsSync(path.join(ROOT, d))).flatMap(sourceFiles);

function violations(filter: (file: string) => boolean, forbidden: (spec: string, file: string) => boolean): string[] {
  return files.filter(filter).flatMap((f) =>
    importsOf(f)
      .filter((s) => forbidden(s, f))
      .map((s) => `${f} imports ${s}`),
  );
}

describe('dependency rules not covered by lint', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain('libs/domain/src/index.ts');
  });

  it('libs are imported only through their index as @jam/<lib>', () => {
    expect(
      violations(
        () => true,
        (s) => /^@jam\/[^/]+\/./.test(s) || /libs\/[^/]+\/src\//.test(s),
      ),
    ).toEqual([]);
  });

  it('only libs/config reads process.env', () => {
    // The sandbox executor reads only NODE_CHANNEL_FD, which Node itself sets for the IPC channel
    // (its environment is otherwise empty by design).
    const readers = files.filter(
      (f) =>
        !f.startsWith('libs/config/') &&
        f !== 'libs/sandbox/src/executor.process.ts' &&
        /process\.env\b(?!`)/.test(fs.readFileSync(path.join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')),
    );
    expect(readers).toEqual([]);
  });
});
