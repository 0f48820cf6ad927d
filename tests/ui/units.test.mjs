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

test('pairing codes are read as typed: case, spaces and dashes do not matter', async () => {
  const { normalizePairingCode } = await load('pairing.js');
  const shown = 'ABCD-EFGH-JKMN-PQRS';
  for (const typed of [shown, 'abcd-efgh-jkmn-pqrs', 'ABCDEFGHJKMNPQRS', ' abcd efgh jkmn pqrs ', 'ab-cd-ef-gh-jk-mn-pq-rs', 'Abcd\tEfgh\nJkmn Pqrs']) {
    assert.equal(normalizePairingCode(typed), shown, JSON.stringify(typed));
  }
  // O, I and L look like 0 and 1 and are read as them, as the appliance does.
  assert.equal(normalizePairingCode('oiL0-1111-2222-3333'), '0110-1111-2222-3333');
  for (const bad of ['', 'ABCD-1234', 'ABCD-EFGH-JKMN-PQR', 'ABCD-EFGH-JKMN-PQRST', 'ABCD-EFGH-JKMN-PQRU', 'ABCD_EFGH_JKMN_PQRS', 'ABCD-EFGH-JKMN-PQR!', null, undefined]) {
    assert.equal(normalizePairingCode(bad), null, JSON.stringify(bad));
  }
});

test('pairing countdown and the shared-configuration line', async () => {
  const { timeLeftText, sharingText } = await load('pairing.js');
  assert.equal(timeLeftText(900), '15 min 00 s left');
  assert.equal(timeLeftText(61.9), '1 min 01 s left');
  assert.equal(timeLeftText(59), '59 s left');
  assert.equal(timeLeftText(0), 'expired');
  assert.equal(timeLeftText(-5), 'expired');
  assert.equal(timeLeftText(Number.NaN), 'expired');
  assert.match(sharingText(null), /not shared yet/);
  assert.match(sharingText({ member: false }), /not shared yet/);
  const line = sharingText({ member: true, generation: 7, pending: ['keytab'], last_error: 'the cloud answered 503', last_applied: 'certificate' });
  assert.match(line, /member, generation 7/);
  assert.match(line, /waiting to publish: keytab/);
  assert.match(line, /last error: the cloud answered 503/);
  assert.match(sharingText({ member: true, generation: 2, pending: [], last_error: null }), /nothing waiting to publish; no errors\.$/);
});

test('join refusals have a message for every code the appliance sends', async () => {
  const { joinMessage } = await load('wizard-join.js');
  for (const code of ['invalid_setting', 'no_answer', 'not_authentic', 'other_connector', 'already_member', 'not_signed_in']) {
    assert.ok(joinMessage({ code, message: 'The request failed (HTTP 400).' }).length > 20, code);
  }
  assert.equal(joinMessage({ code: 'no_answer', message: 'Nobody answered.' }), 'Nobody answered.');
});
