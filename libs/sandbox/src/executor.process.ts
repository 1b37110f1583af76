/**
 * Entry of one executor child process (forked by `SandboxPool`, docs/sandbox.md).
 *
 * The pool starts it with an empty environment, stdin/stdout/stderr on /dev/null and only the IPC
 * channel, and sends it nothing but the bytes a job needs. Guest code runs on one worker thread
 * whose native stack is fixed at EXECUTOR_STACK_MB, so the deterministic call-depth limit is always
 * reached before V8's stack limit whatever the machine's `ulimit -s` (the main thread's stack
 * depends on it). This thread only relays messages. It exits when the guest thread dies or when
 * the parent goes away; the pool then starts a replacement.
 */
import { closeSync, fstatSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EXECUTOR_STACK_MB } from './cost-table';
// Old-space heap of the guest thread (MiB); Wasm memories are outside it and capped by the module maximum.
import { EXECUTOR_HEAP_MB } from './module-limits';

/**
 * First message an executor sends, posted by the guest thread itself once its modules are loaded
 * and it listens for jobs (not at the thread's `online` event, which fires before the thread has
 * required anything: an executor that said ready then still had module files open).
 */
export interface ExecutorReady {
  type: 'ready';
}

/**
 * Closes descriptors inherited from the pool's process: `list` is `fd:dev:ino,...` as made by
 * `inheritableDescriptors()` in the parent; a descriptor is closed only if it is the same open
 * file here (same device and inode), never the IPC channel or Node's own descriptors.
 */
function closeInherited(list: string, ipcFd: number): void {
  for (const entry of list.split(',')) {
    const [fd, dev, ino] = entry.split(':').map(Number);
    if (fd === undefined || dev === undefined || ino === undefined || !Number.isInteger(fd) || fd <= 2 || fd === ipcFd) continue;
    try {
      const st = fstatSync(fd);
      if (st.dev === dev && st.ino === ino) closeSync(fd);
    } catch {
      // not open here
    }
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    // not forked with an IPC channel: nothing to serve
    process.exitCode = 2;
    return;
  }
  closeInherited(process.argv[2] ?? '', Number(process.env['NODE_CHANNEL_FD'] ?? -1));
  const guest = new Worker(path.join(__dirname, 'sandbox.worker.js'), {
    env: {},
    stdout: false,
    stderr: false,
    resourceLimits: { stackSizeMb: EXECUTOR_STACK_MB, maxOldGenerationSizeMb: EXECUTOR_HEAP_MB },
  });
  // relays everything, including the guest thread's own `ready` (ExecutorReady)
  guest.on('message', (msg: unknown) => send(msg));
  guest.on('error', () => process.exit(70));
  guest.on('exit', (code) => process.exit(code === 0 ? 71 : 70));
  process.on('message', (msg: unknown) => guest.postMessage(msg));
  process.on('disconnect', () => process.exit(0));
}

main();
