/**
 * Every status change written by the apps (`transition` / `transitionAndRead`) goes through a named transition of the lifecycle
 * module (`PACKAGE_TRANSITIONS` in libs/domain), and every named transition is made by some
 * writer: the table in libs/domain/src/package-lifecycle.ts is what the pipeline does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_TRANSITIONS } from '@jam/domain';

const ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [rel] : [];
  });
}

const calls = sourceFiles('apps').flatMap((file) => {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/workPackages\.transition(?:AndRead)?\(([^;]*?)\)/gs)].map((m) => ({ file, args: m[1]!.replace(/\s+/g, ' ') }));
});

describe('package status writers', () => {
  it('finds the transition calls of the processors and controllers', () => {
    expect(calls.length).toBeGreaterThanOrEqual(Object.keys(PACKAGE_TRANSITIONS).length);
  });

  it('write only named lifecycle transitions, never a literal status list', () => {
    const bad = calls.filter(({ args }) => {
      const m = /^[^,]+, T\.(\w+)\.from, T\.(\w+)\.to\b/.exec(args);
      return m === null || m[1] !== m[2] || !(m[1]! in PACKAGE_TRANSITIONS);
    });
    expect(bad).toEqual([]);
  });

  it('make every named transition somewhere', () => {
    const used = new Set(calls.map(({ args }) => /T\.(\w+)\.from/.exec(args)?.[1]));
    expect(Object.keys(PACKAGE_TRANSITIONS).filter((name) => !used.has(name))).toEqual([]);
  });
});
