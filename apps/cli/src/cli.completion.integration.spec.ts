import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CliEnvironment } from './cli.context';
import { buildProgram, EXIT_OK, EXIT_USAGE, runCli } from './cli.program';
import { completionNodes, completionScript } from './cli.completion';

const silent: CliEnvironment = { cwd: tmpdir(), stdout: { write: () => true }, stderr: { write: () => true } };

async function jam(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { ...silent, stdout: { write: (c) => (stdout += String(c)) }, stderr: { write: (c) => (stderr += String(c)) } });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'jam-completion-'));
  writeFileSync(path.join(dir, 'work-package.json'), '{}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * What bash offers for the command line `line` (the cursor at its end) with the script loaded:
 * the real bash runs the generated function with COMP_WORDS/COMP_CWORD set as readline would.
 */
function bashComplete(script: string, line: string): string[] {
  const words = line.split(' ');
  const file = path.join(dir, 'jam.bash');
  writeFileSync(file, script);
  const words_ = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    ['--norc', '--noprofile', '-c', `source ${file}; COMP_WORDS=(${words_}); COMP_CWORD=${words.length - 1}; _jam_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { cwd: dir, encoding: 'utf8' },
  );
  return out.split('\n').filter((l) => l !== '');
}

describe('jam completion', () => {
  it('prints a bash script that completes commands, subcommands and options from the program', async () => {
    const r = await jam(['completion', 'bash']);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toContain('complete -o default -F _jam_complete jam');
    const script = r.stdout;
    expect(bashComplete(script, 'jam ')).toEqual(
      expect.arrayContaining(['preimage', 'service', 'package', 'report', 'storage', 'demo', 'admin', 'health', 'version', 'completion']),
    );
    expect(bashComplete(script, 'jam pa')).toEqual(['package']);
    expect(bashComplete(script, 'jam completion ')).toEqual(['bash', 'zsh']);
    // every subcommand commander knows, read from the program itself (a command added on main shows up here too)
    const packageCommands = buildProgram(silent)
      .commands.find((c) => c.name() === 'package')!
      .commands.map((c) => c.name());
    expect(packageCommands).toEqual(expect.arrayContaining(['list', 'status', 'submit']));
    expect(bashComplete(script, 'jam package ').sort()).toEqual([...packageCommands].sort());
    expect(bashComplete(script, 'jam --json admin dispute ').sort()).toEqual(['list', 'resolve']);
    expect(bashComplete(script, 'jam package submit --').sort()).toEqual(
      ['--dry-run', '--help', '--json', '--timeout', '--token', '--url', '--version', '--watch'].sort(),
    );
    expect(bashComplete(script, 'jam admin quota list --')).toEqual(expect.arrayContaining(['--admin-token', '--limit', '--cursor', '--url']));
    // after an option that takes a value nothing is offered by the script (the shell completes files)
    expect(bashComplete(script, 'jam --url ')).toEqual([]);
    expect(bashComplete(script, 'jam --url http://x:1 pack')).toEqual(['package']);
  });

  it('follows the program: a command added to it is completed without editing the generator', () => {
    const program = buildProgram(silent);
    program.command('frobnicate').description('a new command').option('--level <n>', 'how much');
    const script = completionScript(program, 'bash');
    expect(bashComplete(script, 'jam frob')).toEqual(['frobnicate']);
    expect(bashComplete(script, 'jam frobnicate --l')).toEqual(['--level']);
    const nodes = completionNodes(program);
    expect(nodes.find((n) => n.path === 'frobnicate')?.options.find((o) => o.flag === '--level')).toEqual({
      flag: '--level',
      description: 'how much',
      takesValue: true,
    });
  });

  it('prints a zsh script with every command path, described choices, and registration both ways', async () => {
    const r = await jam(['completion', 'zsh']);
    expect(r.code).toBe(EXIT_OK);
    const nodes = completionNodes(buildProgram(silent));
    expect(r.stdout.startsWith('#compdef jam\n')).toBe(true);
    for (const n of nodes) expect(r.stdout).toContain(`    '${n.path}') commands=(`);
    expect(r.stdout).toContain("'submit:submit a work package: GP JSON (.json) or GP binary (.bin, sent as octet-stream)'");
    expect(r.stdout).toContain('valued=(--url --token)');
    expect(r.stdout).toContain('if [[ "${funcstack[1]}" == _jam ]]; then _jam_complete "$@"; else compdef _jam_complete jam; fi');
    // a single quote in a description is closed, escaped and reopened
    expect(r.stdout).toContain("server'\\''s admin_tokens");
  });

  it('refuses a shell it does not know (exit 2)', async () => {
    const r = await jam(['completion', 'fish']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('Allowed choices are bash, zsh');
  });
});
