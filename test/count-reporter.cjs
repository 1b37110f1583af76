// Prints `N passed, N failed` as the very last line of the run so CI can count it (README, Tests).
// Jest's own summary is written after custom reporters run, so the line is written when the process
// exits, after everything else; skipped tests (a defect here) are counted on the line before it.
const { writeSync } = require('node:fs');

class CountReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const lines = `\n${skipped} skipped\n${results.numPassedTests} passed, ${failed} failed\n`;
    process.once('exit', () => writeSync(1, lines));
  }
}
module.exports = CountReporter;
