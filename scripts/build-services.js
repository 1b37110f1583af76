#!/usr/bin/env node
'use strict';
// Placeholder until the sandbox work lands: compiles every services/<name>/assembly/index.ts.
