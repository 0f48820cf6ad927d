// units.test.mjs: the pure functions of the web UI's modules, run in node without a browser
// or a connector (the modules touch the DOM only when their functions are called).

import { test } from 'node:test';
import assert from 'node:assert/strict';

const ui = new URL('../../web-ui/assets/js/', import.meta.url);
const load = (name) => import(new URL(name, ui).href);

test('connector names must be fully qualified DNS names', async () => {
  const { isDnsName } = await load('wizard-steps.js');
  for (const good of ['rmsconnector.contoso.com', 'rms-1.eu.contoso.test', 'a.b']) assert.ok(isDnsName(good), good);
  for (const bad of ['', 'rmsconnector', 'has space.contoso.com', '-x.contoso.com', 'x..com', '192.0.2.1', `${'a'.repeat(64)}.com`, 'x_y.com']) {
    assert.ok(!isDnsName(bad), bad);
  }
});

test('certificate names match exactly or through one wildcard label', async () => {
  const { nameMatches } = await load('certificate.js');
  assert.ok(nameMatches('RMSConnector.contoso.com', 'rmsconnector.contoso.com'));
  assert.ok(nameMatches('*.contoso.com', 'rmsconnector.contoso.com'));
  assert.ok(!nameMatches('*.contoso.com', 'a.b.contoso.com'));
  assert.ok(!nameMatches('*.contoso.com', 'contoso.com'));
  assert.ok(!nameMatches('other.contoso.com', 'rmsconnector.contoso.com'));
});

test('network settings are checked before they are sent', async () => {
  const { checkNetwork, splitList } = await load('network.js');
  assert.deepEqual(splitList(' 192.0.2.1, 192.0.2.2;192.0.2.3  '), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  const dhcp = { mode: 'dhcp', hostname: 'rmsc01', dns: [], ntp: [] };
  assert.equal(checkNetwork(dhcp), null);
  assert.equal(checkNetwork({ ...dhcp, hostname: 'bad name' })[0], 'hostname');
  // The appliance proposes its configured name, which may carry the domain.
  assert.equal(checkNetwork({ ...dhcp, hostname: 'rmsc01.contoso.test' }), null);
  for (const bad of ['a..b', '-rmsc01', 'rmsc01-.contoso.test', 'host.123', '']) {
    assert.equal(checkNetwork({ ...dhcp, hostname: bad })[0], 'hostname', `${bad} is refused`);
  }
  const fixed = { mode: 'static', hostname: 'rmsc01', address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'], ntp: [] };
  assert.equal(checkNetwork(fixed), null);
  assert.equal(checkNetwork({ ...fixed, address: '192.0.2.300' })[0], 'address');
  assert.equal(checkNetwork({ ...fixed, prefix: 33 })[0], 'prefix');
  assert.equal(checkNetwork({ ...fixed, dns: [] })[0], 'dns');
  assert.equal(checkNetwork({ ...fixed, dns: ['dns.contoso.com'] })[0], 'dns');
});

test('proxy URLs are http(s) with a host and no credentials inside', async () => {
  const { isProxyUrl } = await load('proxy.js');
  assert.ok(isProxyUrl(''));
  assert.ok(isProxyUrl('http://proxy.contoso.com:8080'));
  assert.ok(!isProxyUrl('proxy.contoso.com:8080'));
  assert.ok(!isProxyUrl('ftp://proxy'));
  assert.ok(!isProxyUrl('http://user:pw@proxy:8080'));
});

test('download names come from content-disposition, without path parts', async () => {
  const { fileNameFrom } = await load('api.js');
  assert.equal(fileNameFrom('attachment; filename="exchange.reg"', 'x'), 'exchange.reg');
  assert.equal(fileNameFrom("attachment; filename*=UTF-8''a%20b.ps1", 'x'), 'a b.ps1');
  assert.equal(fileNameFrom('attachment; filename="../../etc/passwd"', 'x'), '.._.._etc_passwd');
  assert.equal(fileNameFrom(null, 'fallback.bin'), 'fallback.bin');
});

test('rates come from two samples; errors are every outcome but relayed', async () => {
  const { createSampler } = await load('chart.js');
  const sampler = createSampler();
  const sample = (relayed, forbidden, uptime) => ({
    uptime_secs: uptime,
    requests: [
      { operation: 'Certify', role: 'exchange', outcome: 'relayed', count: relayed },
      { operation: 'Certify', role: 'exchange', outcome: 'forbidden', count: forbidden },
    ],
  });
  assert.equal(sampler.add(sample(10, 1, 100), 1000), null, 'one sample gives no rate');
  const rates = sampler.add(sample(30, 3, 102), 3000);
  assert.equal(rates.rows.length, 1);
  assert.equal(rates.total, 11, '(33 - 11) requests in 2 s');
  assert.equal(rates.errors, 1, '(3 - 1) errors in 2 s');
  assert.equal(sampler.add(sample(1, 0, 1), 5000), null, 'a restart (uptime fell) starts over');
  assert.equal(sampler.history.length, 1);
});

test('directory kinds map to authorized-list kinds', async () => {
  const { entryKind } = await load('authorized-add.js');
  assert.equal(entryKind('user'), 'account');
  assert.equal(entryKind('computer'), 'computer');
  assert.equal(entryKind('group'), 'group');
  assert.equal(entryKind('something else'), 'account');
});
