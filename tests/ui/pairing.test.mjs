// pairing.test.mjs: issue 6's pairing, in two browsers: appliance A (set up by
// wizard.test.mjs, with certificate and keytab) shows a one-time code; appliance B, fresh,
// goes through first run, chooses "Join an existing connector", signs in to the cloud, types
// the code (first a malformed one) and joins; B then has A's certificate and keytab and A's
// page says an appliance joined. Needs RMSC_SECOND_ADMIN_URL and RMSC_SECOND_SETUP_CODE
// (run-e2e.sh starts the second connector); runs after wizard.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  config, users, launch, newContext, watch, screenshot, signIn, waitForHeading, waitForStatus, pollUntil,
} from './lib/harness.mjs';

/** A join waits for the first appliance's answer through the cloud: up to a minute. */
const JOIN_TIMEOUT_MS = 90000;
const CODE_SHAPE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/;

/** The text of the <dd> after the <dt> reading `term`, inside `scope`. */
async function fact(page, scope, term) {
  const dd = page.locator(`${scope} dt`, { hasText: term }).first().locator('xpath=following-sibling::dd[1]');
  await dd.waitFor({ timeout: config.timeoutMs });
  return (await dd.textContent()).trim();
}

/** The certificate fingerprint and keytab kvno as the Settings page of `baseUrl` shows them. */
async function settingsFacts(page, baseUrl) {
  await page.goto(`${baseUrl}/#/settings`);
  await waitForHeading(page, 'Settings');
  await page.locator('.cert-current dl').waitFor({ timeout: config.timeoutMs });
  await page.locator('.keytab-current dl').waitFor({ timeout: config.timeoutMs });
  return {
    fingerprint: await fact(page, '.cert-current', 'SHA-256 fingerprint'),
    kvno: await fact(page, '.keytab-current', 'kvno'),
  };
}

test('a second appliance joins the connector with the code the first one shows', async (t) => {
  const browser = await launch();
  try {
    // Two contexts: both appliances are on 127.0.0.1, and cookies do not tell ports apart.
    const pageA = await (await newContext(browser)).newPage();
    const contextB = await newContext(browser);
    const pageB = await contextB.newPage();
    const watchA = watch(pageA);
    const watchB = watch(pageB);
    let code = null;
    let failed = false;
    const step = (name, fn) => t.test(name, async (st) => {
      if (failed) { st.skip('not run: an earlier step failed'); return; }
      try {
        await fn(st);
      } catch (error) {
        failed = true;
        const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        await screenshot(pageA, `failed-a-${slug}`).catch(() => {});
        await screenshot(pageB, `failed-b-${slug}`).catch(() => {});
        throw error;
      }
    });

    await step('1. appliance A: "Add an appliance" shows a code, the connector and the time left', async () => {
      await signIn(pageA);
      await pageA.goto(`${config.adminUrl}/#/dashboard`);
      await waitForHeading(pageA, 'Dashboard');
      await pageA.getByRole('button', { name: 'Add an appliance' }).click();
      const shown = pageA.locator('.pairing-code');
      await shown.waitFor({ timeout: config.timeoutMs });
      code = (await shown.textContent()).trim();
      assert.match(code, CODE_SHAPE, 'the code is shown as ABCD-EFGH-JKMN-PQRS');
      const offer = await pageA.locator('.pairing-offer').textContent();
      assert.match(offer, /Join an existing connector/, 'the instruction names the choice on the new appliance');
      assert.ok(offer.includes(config.connectorName), `the connector name is shown: ${offer}`);
      assert.match(await pageA.locator('.pairing-left').textContent(), /^1[45] min \d\d s left$/);
      assert.ok(await pageA.getByRole('button', { name: 'Withdraw code' }).isVisible());
      await pageA.locator('.sharing-line', { hasText: 'Shared configuration: member' }).waitFor({ timeout: config.timeoutMs });
      await screenshot(pageA, 'a-code-shown');
    });

    await step('2. appliance B: setup code, password, "Join an existing connector", network', async () => {
      await pageB.goto(`${config.secondAdminUrl}/`);
      await waitForHeading(pageB, 'Administrator password');
      await pageB.getByLabel('Setup code').fill(config.secondSetupCode);
      await pageB.getByLabel('Administrator user name').fill(config.adminUser);
      await pageB.getByLabel('New password').fill(config.adminPassword);
      await pageB.getByLabel('Repeat the password').fill(config.adminPassword);
      await pageB.getByRole('button', { name: 'Set password' }).click();
      await waitForHeading(pageB, 'New or existing connector');
      await pageB.getByRole('radio', { name: 'Join an existing connector' }).check();
      await screenshot(pageB, 'b-start-step-join');
      await pageB.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(pageB, 'Network');
      assert.match(pageB.url(), /#\/setup\/join\/network$/);
      const steps = await pageB.locator('.steps').textContent();
      assert.match(steps, /Pairing code/, 'the join path has a pairing-code step');
      assert.doesNotMatch(steps, /Registration|Kerberos keytab/, 'and skips registration, certificate and keytab');
      const hostname = pageB.getByLabel('Host name');
      await pageB.waitForFunction(() => document.querySelector('input[name="hostname"]').value !== '', null, { timeout: 3000 }).catch(() => {});
      if (!(await hostname.inputValue())) await hostname.fill('rmsc-ui-test-b');
      await pageB.getByRole('button', { name: 'Save and continue' }).click();
      await waitForHeading(pageB, 'Cloud sign-in');
    });

    await step('3. appliance B: cloud sign-in (the same step as a new connector)', async () => {
      await pageB.getByLabel('User name', { exact: true }).fill(users.rmsAdmin.upn);
      await pageB.getByLabel('Password', { exact: true }).fill(users.rmsAdmin.password);
      await pageB.getByRole('button', { name: 'Sign in with password' }).click();
      await waitForStatus(pageB, `Signed in to the cloud service as ${users.rmsAdmin.upn}`, 'ok');
      await pageB.getByRole('button', { name: 'Next', exact: true }).click();
      await waitForHeading(pageB, 'Pairing code');
    });

    await step('4. appliance B: a malformed code is refused in place', async () => {
      const input = pageB.getByLabel('Pairing code');
      await input.fill('ABCD-1234');
      await pageB.getByRole('button', { name: 'Join', exact: true }).click();
      const message = await waitForStatus(pageB, /16-character code/, 'error');
      assert.match(message, /ABCD-EFGH-JKMN-PQRS/);
      assert.equal(await input.getAttribute('aria-invalid'), 'true', 'the code field is marked');
      // In place: the message is inside the form with the field, not only at the bottom.
      assert.equal(await pageB.locator('.step-body form p.status.error').count(), 1);
      await screenshot(pageB, 'b-code-malformed');
    });

    await step('5. appliance B: the code, typed in lower case with spaces, joins', async () => {
      const typed = code.toLowerCase().replace(/-/g, ' ');
      await pageB.getByLabel('Pairing code').fill(typed);
      const join = pageB.getByRole('button', { name: 'Join', exact: true });
      await join.click();
      // While the first appliance answers: progress shown, the button disabled.
      const waiting = await pollUntil(async () => (await pageB.locator('p.status.info', { hasText: 'Waiting for the first appliance' }).count()) > 0
        || (await pageB.locator('h1.page-heading', { hasText: 'Joined' }).count()) > 0, 'the join to start');
      if (waiting && (await pageB.locator('h1.page-heading', { hasText: 'Joined' }).count()) === 0) {
        assert.ok(await join.isDisabled(), 'the Join button is disabled while waiting');
        await screenshot(pageB, 'b-joining');
      }
      await pageB.locator('h1.page-heading', { hasText: 'Joined' }).waitFor({ timeout: JOIN_TIMEOUT_MS });
      const details = await pageB.locator('.joined-details').textContent();
      assert.ok(details.includes(`joined the connector ${config.connectorName}`), details);
      assert.match(details, /received the HTTPS certificate and the Kerberos keytab/);
      await screenshot(pageB, 'b-joined');
    });

    await step('6. appliance A: says an appliance joined; the list shows both', async () => {
      await waitForStatus(pageA, /An appliance joined/, 'ok');
      assert.equal(await pageA.locator('.pairing-code').count(), 0, 'the used code is gone');
      // The list comes from the cloud's heartbeats; the dashboard reloads it every 15 s, and
      // the new appliance's row has its version, address and time once it has sent one.
      const rows = pageA.locator('.dashboard table.data').filter({ hasText: 'Last seen' }).locator('tbody tr');
      const filled = async () => {
        const count = await rows.count();
        if (count < 2) return false;
        for (let i = 0; i < count; i += 1) {
          for (const column of ['Version', 'Address', 'Last seen']) {
            const text = (await rows.nth(i).locator(`td[data-label="${column}"]`).textContent()).trim();
            if (!text || text === '-') return false;
          }
          if (!/Healthy|Unhealthy/.test(await rows.nth(i).locator('td[data-label="Health"]').textContent())) return false;
        }
        return true;
      };
      await pollUntil(filled, 'both appliances listed with version, address, last seen and health', 75000, 500)
        .catch(async (error) => {
          throw new Error(`${error.message}; rows: ${(await rows.allTextContents()).join(' | ')}`);
        });
      await screenshot(pageA, 'a-appliance-joined');
    });

    await step('7. appliance B has A\'s certificate and keytab', async () => {
      await pageB.getByRole('button', { name: 'Finish' }).click();
      await waitForHeading(pageB, 'Dashboard');
      await pageB.locator('.sharing-line', { hasText: 'member' }).waitFor({ timeout: config.timeoutMs });
      await screenshot(pageB, 'b-dashboard');
      const a = await settingsFacts(pageA, config.adminUrl);
      const b = await settingsFacts(pageB, config.secondAdminUrl);
      assert.match(a.fingerprint, /[0-9a-f]{2}/i, `A has a certificate: ${a.fingerprint}`);
      assert.equal(b.fingerprint, a.fingerprint, 'the same HTTPS certificate');
      assert.match(a.kvno, /^\d+$/);
      assert.equal(b.kvno, a.kvno, 'the same keytab version');
      await screenshot(pageA, 'a-settings');
      await screenshot(pageB, 'b-settings');
      watchA.assertClean();
      watchB.assertClean();
    });
  } finally {
    await browser.close();
  }
});
