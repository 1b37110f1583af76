// Runs bench/queue-embedded.ts without a build: swc transpiles .ts on require and @jam/<lib>
// resolves to libs/<lib>/src/index.ts. Usage: node bench/queue-embedded.run.cjs [jobs]
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.join(__dirname, '..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const m = /^@jam\/([a-z-]+)$/.exec(request);
  if (m) return path.join(root, 'libs', m[1], 'src', 'index.ts');
  return resolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const src = require('node:fs').readFileSync(filename, 'utf8');
  const { code } = transformSync(src, {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require('./queue-embedded.ts');
