#!/usr/bin/env node
/**
 * Entry point of the `jam` CLI (bin/jam.js). The only module of the CLI that reads the process
 * environment: JAM_URL, JAM_TOKEN and the working directory are passed down from here.
 */
import { runCli } from './cli.program';

void runCli(process.argv.slice(2), {
  ...(process.env['JAM_URL'] ? { url: process.env['JAM_URL'] } : {}),
  ...(process.env['JAM_TOKEN'] ? { token: process.env['JAM_TOKEN'] } : {}),
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
