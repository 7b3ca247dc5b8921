#!/usr/bin/env node
// The `strand` CLI. Installed from the package, it runs the bundle in
// dist/cli (npm run build). In a clone of the repository it runs cli/main.ts
// through tsx instead, so an edit to cli/ takes effect at once and a dist/ left
// over from an earlier build is never run by mistake; without tsx (a clone
// installed with --omit=dev) it falls back to the bundle.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const source = join(__dirname, '..', 'cli', 'main.ts');
const bundle = join(__dirname, '..', 'dist', 'cli', 'main.cjs');

function tsxRegister() {
  try {
    return require('tsx/cjs/api').register;
  } catch {
    return undefined;
  }
}

const register = existsSync(source) ? tsxRegister() : undefined;
if (register) {
  register();
  require(source).run();
} else if (existsSync(bundle)) {
  require(bundle).run();
} else {
  process.stderr.write(`strand: ${bundle} is missing; run \`npm run build\` (or \`npm ci\` for tsx) first.\n`);
  process.exitCode = 1;
}
