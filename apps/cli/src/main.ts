#!/usr/bin/env node
/**
 * Entry point of the `jam` CLI (bin/jam.js): JAM_URL (or JAM_PORT) and JAM_TOKEN, read by libs/config,
 * and the working directory are passed down from here.
 */
import { cliEnvironment, localRunLimits } from '@jam/config';
import { runCli } from './cli.program';

// `jam ... | head`: the reader went away; that is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

void runCli(process.argv.slice(2), {
  // JAM_URL wins; else a server started with JAM_PORT on this machine is found on that port.
  ...cliEnvironment(),
  runLimits: () => localRunLimits(),
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
