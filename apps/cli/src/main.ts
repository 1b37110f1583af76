#!/usr/bin/env node
/**
 * Entry point of the `jam` CLI (bin/jam.js). The only module of the CLI that reads the process
 * environment: JAM_URL (or JAM_PORT), JAM_TOKEN and the working directory are passed down from here.
 */
import { runCli } from './cli.program';

// `jam ... | head`: the reader went away; that is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// JAM_URL wins; else a server started with JAM_PORT on this machine is found on that port.
const jamPort = process.env['JAM_PORT'];
const url = process.env['JAM_URL'] || (jamPort && /^\d{1,5}$/.test(jamPort) ? `http://127.0.0.1:${jamPort}` : undefined);

void runCli(process.argv.slice(2), {
  ...(url ? { url } : {}),
  ...(process.env['JAM_TOKEN'] ? { token: process.env['JAM_TOKEN'] } : {}),
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
