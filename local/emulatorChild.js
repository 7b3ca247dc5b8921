// Runs the embedded emulators in a process of their own (see emulatorProcess.ts):
// prints their endpoints as one JSON line, stops on SIGTERM.
'use strict';
require('tsx/cjs/api').register();
const { startEmulators } = require('./emulators.ts');

startEmulators({ dataDir: process.argv[2] }).then(
  (emulators) => {
    process.stdout.write(JSON.stringify({ dynamodbEndpoint: emulators.dynamodbEndpoint, s3Endpoint: emulators.s3Endpoint }) + '\n');
    const stop = () => emulators.stop().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('disconnect', stop);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
