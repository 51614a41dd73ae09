// Proxyless gRPC client: resolves xds:///<service> through the xDS server named in the bootstrap
// (GRPC_XDS_BOOTSTRAP), then calls Echo.Say every 100 ms, printing one JSON line per call:
// {"ok":true,"instance":"echo-1"} or {"ok":false,"error":"..."}.
// `node xds_client.js <service> <max-calls> <max-seconds>`; both bounds end the loop.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const xds = require('@grpc/grpc-js-xds');
const loader = require('@grpc/proto-loader');

xds.register();
const [service, maxCalls, maxSeconds] = process.argv.slice(2);
const def = loader.loadSync(path.join(__dirname, 'echo.proto'));
const pkg = grpc.loadPackageDefinition(def).trellis.e2e;
const client = new pkg.Echo(`xds:///${service}`, grpc.credentials.createInsecure());

const deadlineAt = Date.now() + Number(maxSeconds) * 1000;
let calls = 0;
function once() {
  if (calls >= Number(maxCalls) || Date.now() > deadlineAt) {
    client.close();
    process.exit(0);
  }
  calls++;
  client.Say({ text: 'hi' }, { deadline: Date.now() + 2000 }, (err, reply) => {
    if (err) console.log(JSON.stringify({ ok: false, error: err.details || err.message }));
    else console.log(JSON.stringify({ ok: true, instance: reply.instance }));
    setTimeout(once, 100);
  });
}
once();
