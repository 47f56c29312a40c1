'use strict';
// Runs s3rver in its own process: s3rver 3.7 makes ListObjectsV2 continuation tokens with DES,
// which Node 17+ (OpenSSL 3) only offers with --openssl-legacy-provider, a process-wide flag.
const S3rver = require('s3rver');

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.argv[2],
});

server.run().then(
  ({ port }) => process.send({ port }),
  (error) => {
    process.send({ error: String(error) });
    process.exit(1);
  },
);

// The parent closes the IPC channel (or dies): stop.
process.on('disconnect', () => {
  server.close().finally(() => process.exit(0));
});
