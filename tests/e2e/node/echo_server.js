// Echo gRPC server for the proxyless test: `node echo_server.js <port> <instance-name>`.
// Prints "listening <port>" once bound; exits on SIGTERM.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [port, instance] = process.argv.slice(2);
const def = loader.loadSync(path.join(__dirname, 'echo.proto'));
const pkg = grpc.loadPackageDefinition(def).trellis.e2e;

const server = new grpc.Server();
server.addService(pkg.Echo.service, {
  Say(call, cb) { cb(null, { text: call.request.text, instance }); },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log(`listening ${bound}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
