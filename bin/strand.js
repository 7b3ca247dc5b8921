#!/usr/bin/env node
// The `strand` CLI. The repository is TypeScript run through tsx, so this shim
// registers tsx's loader for the CLI's modules and hands over to cli/main.ts.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
require('../cli/main.ts').run();
