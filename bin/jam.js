#!/usr/bin/env node
'use strict';
// `jam` command line client. The TypeScript sources live in apps/cli; this shim runs the build output.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('jam: not built yet; run `npm run build` (or `npm start`, which builds) first\n');
  process.exit(2);
}
require(entry);
