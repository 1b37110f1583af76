import { sandboxFailureKind } from './sandbox-failure';
import { SandboxExecutorError } from './sandbox.pool';

describe('sandboxFailureKind', () => {
  it('counts executor crashes and engine faults, nothing else', () => {
    const crashed = new SandboxExecutorError('crashed', 'sandbox executor exited with SIGKILL');
    expect(crashed.message).toBe('sandbox executor failed: sandbox executor exited with SIGKILL');
    expect(sandboxFailureKind(crashed)).toBe('executor');
    expect(sandboxFailureKind(new SandboxExecutorError('errored', 'engine fault (not a guest result): RangeError: x'))).toBe('executor');
    // another copy of the class (same name) still counts
    expect(sandboxFailureKind(Object.assign(new Error('sandbox executor failed: x'), { name: 'SandboxExecutorError' }))).toBe('executor');
    // shutdown, start-up and argument errors are not the package's doing
    expect(sandboxFailureKind(new Error('sandbox pool closed'))).toBeUndefined();
    expect(sandboxFailureKind(new Error('sandbox executor failed to start: spawn ENOENT'))).toBeUndefined();
    expect(sandboxFailureKind(new RangeError('storage snapshot too large'))).toBeUndefined();
    expect(sandboxFailureKind('sandbox executor failed: x')).toBeUndefined();
  });
});
