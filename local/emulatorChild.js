// Runs one embedded emulator ('s3' or 'dynamodb') in a process of its own (see
// emulatorProcess.ts): prints its endpoint as one JSON line, stops on SIGTERM.
'use strict';
require('tsx/cjs/api').register();
const { startDynamoDbEmulator, startS3Emulator } = require('./emulators.ts');

const [which, dataDir] = process.argv.slice(2);
const start = which === 's3' ? startS3Emulator : startDynamoDbEmulator;
start(dataDir).then(
  (emulator) => {
    process.stdout.write(JSON.stringify({ endpoint: emulator.endpoint }) + '\n');
    const stop = () => emulator.stop().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('disconnect', stop);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
