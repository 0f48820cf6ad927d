// wizard.test.mjs: clicks through the whole first-run wizard of a fresh connector: setup
// code, administrator password, "Set up a new connector", network (DHCP), connector name, device-code sign-in (plain,
// then with a one-time code), registration, self-signed certificate, keytab (RC4-only refused
// first), and an Exchange group found by directory search. Each step is a subtest; a step
// whose admin API route the connector does not serve yet reports "SKIP: route ..." and the
// wizard continues at the next step's address.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  config, users, launch, newContext, watch, screenshot, waitForHeading, waitForStatus, headingHasFocus,
} from './lib/harness.mjs';
import { makeKeytab, ENCTYPE } from './lib/keytab.mjs';
import { skipIfPending } from './lib/routes.mjs';

/** Completes a device-code sign-in in a second page, as an administrator would on a phone. */
async function deviceSignIn(page, context, user) {
  await page.getByRole('button', { name: /Sign in with a device code|Get a new code/ }).click();
  const code = (await page.locator('.user-code').textContent({ timeout: config.timeoutMs })).trim();
  const href = await page.locator('a.verification-link').getAttribute('href');
  assert.match(code, /^[A-Z]{4}-[A-Z]{4}$/, 'the user code is shown');
  if (config.standinUrl) assert.ok(href.startsWith(config.standinUrl), `verification page ${href} is the stand-in's`);
  await waitForStatus(page, /Waiting for you/);

  const other = await context.newPage();
  const otherWatch = watch(other);
  await other.goto(href);
  await other.getByLabel('Code').fill(code);
  await other.getByRole('button', { name: 'Next' }).click();
  await other.getByLabel('User name').fill(user.upn);
  await other.getByLabel('Password').fill(user.password);
  await other.getByRole('button', { name: 'Sign in' }).click();
  if (user.otp) {
    await other.getByLabel('One-time code').fill(user.otp);
    await other.getByRole('button', { name: 'Verify' }).click();
  }
  await other.getByRole('heading', { name: 'You are signed in' }).waitFor({ timeout: config.timeoutMs });
  await screenshot(other, `device-page-${user.upn.split('@')[0]}`);
  otherWatch.assertClean();
  await other.close();

  await waitForStatus(page, `Signed in to the cloud service as ${user.upn}`, 'ok');
}

test('first-run wizard, from the setup code to the first authorized server', async (t) => {
  const browser = await launch();
  try {
    const context = await newContext(browser);
    const page = await context.newPage();
    const watcher = watch(page);
    let failed = false;
    // Runs one step as a subtest; after a failed step the rest cannot run meaningfully.
    const step = (name, fn) => t.test(name, async (st) => {
      if (failed) { st.skip('not run: an earlier step failed'); return; }
      try {
        await fn(st);
      } catch (error) {
        failed = true;
        await screenshot(page, `failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`).catch(() => {});
        throw error;
      }
    });
    // A skipped step leaves the browser on it; the wizard's steps have addresses of their own.
    const skipTo = async (stepId, heading) => {
      await page.goto(`${config.adminUrl}/#/setup/${stepId}`);
      await waitForHeading(page, heading);
    };

    await step('1. setup code and administrator password', async () => {
      await page.goto(`${config.adminUrl}/`);
      await waitForHeading(page, 'Administrator password');
      assert.ok(await headingHasFocus(page), 'the step heading has focus');
      await screenshot(page, 'admin-step');
      await page.getByLabel('Setup code').fill('WRONG-0000');
      await page.getByLabel('Administrator user name').fill(config.adminUser);
      await page.getByLabel('New password').fill(config.adminPassword);
      await page.getByLabel('Repeat the password').fill(config.adminPassword);
      await page.getByRole('button', { name: 'Set password' }).click();
      await waitForStatus(page, /./, 'error');
      assert.equal(await page.getByLabel('Setup code').getAttribute('aria-invalid'), 'true', 'the wrong code is marked');
      await screenshot(page, 'admin-step-wrong-code');
      await page.getByLabel('Setup code').fill(config.setupCode);
      await page.getByRole('button', { name: 'Set password' }).click();
      await waitForHeading(page, 'New or existing connector');
      assert.ok(await headingHasFocus(page), 'focus moves to the new step');
    });

    await step('2. a new connector (joining one is pairing.test.mjs)', async () => {
      assert.ok(await page.getByRole('radio', { name: 'Set up a new connector' }).isChecked(), 'a new connector is the default');
      await screenshot(page, 'start-step');
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(page, 'Network');
    });

    await step('3. network: keep DHCP', async (st) => {
      if (await skipIfPending(st, page, ['GET /api/v1/settings/network', 'PUT /api/v1/settings/network'])) {
        await screenshot(page, 'network-step-no-route');
        await skipTo('name', 'Connector name');
        return;
      }
      assert.ok(await page.getByRole('radio', { name: 'Automatic (DHCP)' }).isChecked(), 'DHCP is the default');
      const hostname = page.getByLabel('Host name');
      await page.waitForFunction(() => document.querySelector('input[name="hostname"]').value !== '', null, { timeout: 3000 }).catch(() => {});
      if (!(await hostname.inputValue())) await hostname.fill('rmsc-ui-test');
      await screenshot(page, 'network-step');
      await page.getByRole('button', { name: 'Save and continue' }).click();
      await waitForHeading(page, 'Connector name');
    });

    await step('4. connector name, with the warning that it must never change', async () => {
      assert.match(await page.locator('.callout.warning').textContent(), /must never change/);
      await page.getByLabel('Connector name').fill('not a dns name');
      await page.getByRole('button', { name: 'Next' }).click();
      await waitForStatus(page, /fully qualified DNS name/, 'error');
      await page.getByLabel('Connector name').fill(config.connectorName);
      await screenshot(page, 'name-step');
      await page.getByRole('button', { name: 'Next' }).click();
      await waitForHeading(page, 'Cloud sign-in');
    });

    await step('5. cloud sign-in with a device code: a plain account, then one with MFA', async () => {
      await screenshot(page, 'signin-step');
      await deviceSignIn(page, context, users.rmsAdmin);
      await deviceSignIn(page, context, users.mfa);
      await screenshot(page, 'signin-step-done');
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(page, 'Registration');
    });

    await step('6. registration', async () => {
      await page.locator('.summary dl').waitFor({ timeout: config.timeoutMs });
      assert.match(await page.locator('.summary').textContent(), new RegExp(config.connectorName.replace(/\./g, '\\.')));
      await screenshot(page, 'register-step');
      await page.getByRole('button', { name: 'Register' }).click();
      await waitForHeading(page, 'HTTPS certificate');
    });

    await step('7. self-signed HTTPS certificate', async (st) => {
      if (await skipIfPending(st, page, ['GET /api/v1/certificate', 'POST /api/v1/certificate/self-signed'])) {
        await screenshot(page, 'certificate-step-no-route');
        await skipTo('keytab', 'Kerberos keytab');
        return;
      }
      await page.getByRole('radio', { name: 'Use a self-signed certificate' }).check();
      await page.getByRole('button', { name: 'Use a self-signed certificate' }).click();
      await waitForStatus(page, 'Self-signed certificate installed', 'ok');
      await page.locator('.cert-current dl').waitFor({ timeout: config.timeoutMs });
      await screenshot(page, 'certificate-step');
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(page, 'Kerberos keytab');
    });

    // The lab's RC4-only keytab (another principal) and an RC4-only keytab for the connector's
    // own principal are refused with the appliance's messages; then the real one.
    await step('8. keytab: RC4-only refused, the connector keytab installed', async () => {
      const keytabs = path.join(config.labDir, 'keytabs');
      await page.getByLabel('Keytab file').setInputFiles(path.join(keytabs, 'rc4-only.keytab'));
      await page.getByRole('button', { name: 'Upload keytab' }).click();
      assert.ok((await waitForStatus(page, /./, 'error')).length > 10, 'the refusal explains itself');
      await screenshot(page, 'keytab-lab-rc4-refused');
      const [service, realm] = [`HTTP/${config.connectorName}`, config.connectorName.split('.').slice(1).join('.').toUpperCase()];
      await page.getByLabel('Keytab file').setInputFiles({
        name: 'rc4-only-connector.keytab',
        mimeType: 'application/octet-stream',
        buffer: makeKeytab(service, realm, 9, [ENCTYPE.rc4]),
      });
      await page.getByRole('button', { name: 'Upload keytab' }).click();
      await waitForStatus(page, /only .*(rc4|arcfour)/i, 'error');
      await screenshot(page, 'keytab-rc4-refused');
      await page.getByLabel('Keytab file').setInputFiles(path.join(keytabs, 'connector.keytab'));
      await page.getByRole('button', { name: 'Upload keytab' }).click();
      await waitForStatus(page, 'Keytab installed', 'ok');
      const keytabFacts = await page.locator('.keytab-current').textContent();
      assert.match(keytabFacts, /HTTP\/rmsconnector\.contoso\.test/i);
      assert.match(keytabFacts, /aes256/i);
      await screenshot(page, 'keytab-step');
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(page, 'Authorized servers');
    });

    await step('9. authorized servers: the Exchange group found in the directory, added as Exchange', async (st) => {
      if (await skipIfPending(st, page, ['GET /api/v1/directory/search?q=EXCH'])) {
        await screenshot(page, 'authorized-step-no-directory');
        return;
      }
      await page.getByLabel('Name to search for').fill('EXCH');
      await page.getByRole('button', { name: 'Search' }).click();
      const results = page.locator('.results input[type="radio"]');
      await results.first().waitFor({ timeout: config.timeoutMs });
      const group = page.locator('.results .radio').filter({ hasText: /Exchange Servers/i });
      const pick = (await group.count()) > 0 ? group.first().locator('input') : results.first();
      await pick.check();
      const pickedName = (await pick.locator('xpath=following-sibling::label').textContent()).replace(/ \(.*$/, '');
      await page.getByRole('radio', { name: 'Exchange', exact: true }).check();
      await page.locator('.callout.danger', { hasText: 'Super user' }).waitFor({ state: 'visible', timeout: config.timeoutMs });
      await screenshot(page, 'authorized-step-exchange-warning');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      const row = page.locator('.authorized-list tbody tr').filter({ hasText: pickedName });
      await row.waitFor({ timeout: config.timeoutMs });
      assert.match(await row.textContent(), /Exchange/);
      assert.match(await row.textContent(), /S-1-5-21-/, 'the entry carries the SID from the directory');
      await screenshot(page, 'authorized-step');
    });

    await step('10. finish: the dashboard', async () => {
      await page.getByRole('button', { name: 'Finish' }).click();
      await waitForHeading(page, 'Dashboard');
      await page.locator('.dashboard .card dl').first().waitFor({ timeout: config.timeoutMs });
      await screenshot(page, 'dashboard-after-setup');
      watcher.assertClean();
    });
  } finally {
    await browser.close();
  }
});
