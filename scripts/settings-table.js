#!/usr/bin/env node
'use strict';
// Prints the settings table for README.md from libs/config (the one source of truth).
// Usage: npm run build && node scripts/settings-table.js
const { SETTINGS } = require('../dist/libs/config/src/config.schema.js');
const rows = Object.entries(SETTINGS).map(
  ([key, d]) =>
    `| \`${d.env}\` | \`${key}\` | ${d.default === undefined ? '(unset)' : `\`${d.default}\``} | ${d.description}${d.sensitive ? ' **Secret.**' : ''} |`,
);
process.stdout.write(['| variable | setting | default | meaning |', '|---|---|---|---|', ...rows].join('\n') + '\n');
