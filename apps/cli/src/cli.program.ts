import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { JamApiError, JamClientError } from '@jam/client';
import { CliFailure, CliHintedError, CliUsageError, commandContext, toJson, type CliEnvironment } from './cli.context';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './cli.completion';
import { cliVersion, versionText } from './cli.version';
import { registerAdminCommands } from './commands/admin.command';
import { registerDemoCommand } from './commands/demo.command';
import { registerPackageCommands } from './commands/package.command';
import { registerPreimageCommands } from './commands/preimage.command';
import { registerReportCommands } from './commands/report.command';
import { registerServiceCommands } from './commands/service.command';
import { registerServiceProjectCommands } from './commands/service-project.command';
import { registerStorageCommands } from './commands/storage.command';

/** Exit codes of `jam` (documented in `jam --help`). */
export const EXIT_OK = 0;
/** The server answered with an error, could not be reached, or the outcome was a failure. */
export const EXIT_FAILURE = 1;
/** Wrong invocation: unknown command or option, malformed argument, unreadable file. */
export const EXIT_USAGE = 2;

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Written by the embedded server (`npm start`) for local use. */
export const DEV_TOKEN_FILE = path.join('.jam-data', 'dev-token');

/** Where the token of a run came from, for the hint printed on 401 (never the token itself). */
export type TokenSource = { kind: 'flag' } | { kind: 'env' } | { kind: 'dev-token'; file: string } | { kind: 'none'; file: string };

/** The dev-token file the CLI reads: `dev-token` in JAM_DATA_DIR (the server's setting), else `.jam-data/dev-token` under `cwd`. */
export function devTokenFile(env: CliEnvironment): string {
  return env.dataDir ? path.resolve(env.cwd, env.dataDir, 'dev-token') : path.join(env.cwd, DEV_TOKEN_FILE);
}

/**
 * The token used when --token is not given, with its source: JAM_TOKEN, else the dev-token file
 * (`devTokenFile`) if present and non-empty, else none.
 */
export function defaultToken(env: CliEnvironment): { token: string | undefined; source: TokenSource } {
  if (env.token) return { token: env.token, source: { kind: 'env' } };
  const file = devTokenFile(env);
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, source: { kind: 'dev-token', file } };
  } catch {
    // no dev token here
  }
  return { token: undefined, source: { kind: 'none', file } };
}

/** The hint printed after a 401: says which token was sent (by source) and what to try instead. */
export function unauthorizedHint(source: TokenSource): string {
  switch (source.kind) {
    case 'flag':
      return 'the server refused the token given with --token';
    case 'env':
      return 'the server refused the token in JAM_TOKEN (it overrides the dev-token file; unset it to use that)';
    case 'dev-token':
      return `the server refused the dev token read from ${source.file}; a server started with JAM_ALLOWED_TOKENS, or with another JAM_DATA_DIR, does not accept it: pass --token or set JAM_TOKEN`;
    case 'none':
      return `no token was sent: pass --token or set JAM_TOKEN (the embedded server writes one to ${source.file})`;
  }
}

/** Builds the `jam` program; commander is set to throw instead of exiting, and to write to `env`'s streams. */
export function buildProgram(env: CliEnvironment): Command {
  const program = new Command('jam');
  const { token } = defaultToken(env);
  program
    .description('command line client of the JAM Prototype work-package runner')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => env.stdout.write(s),
      writeErr: (s) => env.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .option('--url <url>', 'server URL (env JAM_URL, else http://127.0.0.1:$JAM_PORT when JAM_PORT is set)', env.url || DEFAULT_URL)
    // The default is shown by its source, never by value: help output ends up in screenshots and CI logs.
    .addOption(new Option('--token <token>', 'bearer token').default(token, `env JAM_TOKEN, else ${DEV_TOKEN_FILE} if present`))
    .option('--json', 'machine-readable JSON output')
    .version(versionText(cliVersion()), '-V, --version', 'print the version, the protocol and the engines it speaks (Wasm and PVM)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 server/API error or failed outcome, 2 usage error.');

  registerPreimageCommands(program, env);
  registerServiceCommands(program, env);
  registerServiceProjectCommands(program, env);
  registerPackageCommands(program, env);
  registerReportCommands(program, env);
  registerStorageCommands(program, env);
  registerDemoCommand(program, env);
  registerAdminCommands(program, env);
  program
    .command('version')
    .description('print the version, the protocol and the engines it speaks, Wasm and PVM (--json for a machine-readable form)')
    .action((_opts: unknown, cmd: Command) => {
      const v = cliVersion();
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) env.stdout.write(`${toJson(v)}\n`);
      else env.stdout.write(`${versionText(v)}\n`);
    });
  program
    .command('completion')
    .description('print a shell completion script, made from these commands and options (see README: shell completion)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      '\nInstall (bash): jam completion bash > ~/.local/share/bash-completion/completions/jam\nInstall (zsh):  jam completion zsh > "${fpath[1]}/_jam"',
    )
    .action((shell: CompletionShell) => {
      env.stdout.write(completionScript(program, shell));
    });
  program
    .command('health')
    .description('check that the server is up')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = commandContext(env, cmd);
      const h = await ctx.client.health();
      if (ctx.global.json) return ctx.json(h);
      ctx.out(`${ctx.global.url}: ${h.status}`);
    });
  return program;
}

/**
 * Runs `jam` with `argv` (without node and script) and resolves to the exit code; never exits
 * the process itself and never rejects.
 */
export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const program = buildProgram(env);
  const json = argv.includes('--json');
  const report = (code: string, message: string, details?: unknown): void => {
    if (json) env.stderr.write(`${toJson({ error: { code, message, ...(details ? { details } : {}) } })}\n`);
    else env.stderr.write(`jam: ${code}: ${message}\n`);
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help) already
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof CliUsageError) {
      report('usage', err.message);
      return EXIT_USAGE;
    }
    const hintIfUnauthorized = (code: string): void => {
      if (code !== 'unauthorized' || json) return;
      const flag = argv.some((a) => a === '--token' || a.startsWith('--token='));
      env.stderr.write(`jam: hint: ${unauthorizedHint(flag ? { kind: 'flag' } : defaultToken(env).source)}\n`);
    };
    if (err instanceof CliHintedError) {
      report(err.error.code, err.error.message, err.error.details);
      if (!json) env.stderr.write(`jam: hint: ${err.hint}\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof CliFailure) {
      if (!err.reported) report(err.code, err.message);
      hintIfUnauthorized(err.code);
      return EXIT_FAILURE;
    }
    if (err instanceof JamApiError) {
      report(err.code, err.message, err.details);
      hintIfUnauthorized(err.code);
      return EXIT_FAILURE;
    }
    if (err instanceof JamClientError) {
      report(err.code, err.message);
      return err.code === 'invalid_argument' ? EXIT_USAGE : EXIT_FAILURE;
    }
    report('internal_error', err instanceof Error ? (err.stack ?? err.message) : String(err));
    return EXIT_FAILURE;
  }
}
