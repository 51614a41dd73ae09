// Exercises the npm `consul` client (node-consul) against a running agent; exits non-zero on the
// first mismatch. Usage: node consul_client.js <port>
'use strict';
const assert = require('node:assert/strict');
const Consul = require('consul');

async function main() {
  const consul = new Consul({ host: '127.0.0.1', port: Number(process.argv[2]) });

  await consul.kv.set('node/greeting', 'hello');
  const kv = await consul.kv.get('node/greeting');
  assert.equal(kv.Value, 'hello');
  assert.equal(kv.Key, 'node/greeting');
  const keys = await consul.kv.keys('node/');
  assert.deepEqual(keys, ['node/greeting']);
  assert.equal(await consul.kv.get('node/missing'), undefined);

  await consul.agent.service.register({ name: 'nodeweb', id: 'nodeweb-1', port: 3000,
                                        tags: ['js'], check: { ttl: '30s' } });
  await consul.agent.check.pass({ id: 'service:nodeweb-1', note: 'ok' });
  const healthy = await consul.health.service({ service: 'nodeweb', passing: true });
  assert.equal(healthy.length, 1);
  assert.equal(healthy[0].Service.ID, 'nodeweb-1');
  const services = await consul.catalog.service.list();
  assert.deepEqual(services.nodeweb, ['js']);

  const session = await consul.session.create({ ttl: '15s', lockdelay: '0s' });
  assert.ok(session.ID);
  assert.equal(await consul.kv.set({ key: 'node/lock', value: 'me', acquire: session.ID }), true);
  const info = await consul.session.info(session.ID);
  assert.equal(info.ID, session.ID);
  await consul.session.destroy(session.ID);

  // A blocking query through the client's own index handling.
  const first = await consul.kv.get({ key: 'node/greeting' });
  const waiting = consul.kv.get({ key: 'node/greeting', index: first.ModifyIndex, wait: '10s' });
  setTimeout(() => consul.kv.set('node/greeting', 'changed'), 200);
  const changed = await waiting;
  assert.equal(changed.Value, 'changed');

  await consul.agent.service.deregister('nodeweb-1');
  assert.deepEqual(await consul.health.service('nodeweb'), []);
  const leader = await consul.status.leader();
  assert.match(leader, /:8300$/);
  console.log('node-consul: all checks passed');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
