// signin.test.mjs: the cloud sign-in failures the contract defines are shown as clear
// messages; a password with every awkward character works; names containing markup are
// rendered as text. Runs after wizard.test.mjs (needs the administrator account it set).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  config, users, launch, newContext, watch, screenshot, signIn, waitForHeading, waitForStatus, imageCount,
} from './lib/harness.mjs';

const MARKUP = '<img src=x onerror=alert(1)>';

async function passwordSignIn(page, upn, password) {
  await page.getByLabel('User name', { exact: true }).fill(upn);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in with password' }).click();
}

test('administrator sign-in with a wrong password is refused with a message', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await page.goto(`${config.adminUrl}/`);
    await waitForHeading(page, 'Sign in');
    await page.getByLabel('User name').fill(config.adminUser);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const message = await waitForStatus(page, /./, 'error');
    assert.ok(message.length > 10, `a readable refusal: ${message}`);
    assert.ok(await page.locator('#nav').isHidden(), 'still signed out');
    await screenshot(page, 'admin-signin-refused');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('cloud sign-in failures: wrong password, MFA required, missing role', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    await page.goto(`${config.adminUrl}/#/setup/signin`);
    await waitForHeading(page, 'Cloud sign-in');

    await passwordSignIn(page, users.globalAdmin.upn, 'wrong &<>"\' password');
    assert.match(await waitForStatus(page, /not correct/i, 'error'), /user name and password/i);
    await screenshot(page, 'cloud-wrong-password');

    await passwordSignIn(page, users.mfa.upn, users.mfa.password);
    assert.match(await waitForStatus(page, /multi-factor/i, 'error'), /device code/i);
    await screenshot(page, 'cloud-mfa-required');

    await passwordSignIn(page, users.noRoles.upn, users.noRoles.password);
    assert.match(await waitForStatus(page, /administrator/i, 'error'), /role/i);
    await screenshot(page, 'cloud-missing-role');

    // A user name that is markup fails like any unknown user and stays text.
    await passwordSignIn(page, `${MARKUP}@contoso.test`, 'x');
    await waitForStatus(page, /not correct/i, 'error');
    assert.equal(await imageCount(page), 0, 'no <img> element was created');

    // Every character the original connector rejected, in a real password.
    await passwordSignIn(page, users.globalAdmin.upn, users.globalAdmin.password);
    await waitForStatus(page, `Signed in to the cloud service as ${users.globalAdmin.upn}`, 'ok');
    await screenshot(page, 'cloud-special-characters');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('an account name made of markup is shown as text, then removed after confirmation', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    await page.goto(`${config.adminUrl}/#/authorized`);
    await waitForHeading(page, 'Authorized servers');
    await page.getByRole('radio', { name: 'Enter it by hand' }).check();
    await page.getByLabel('Account', { exact: true }).fill(`CONTOSO\\${MARKUP}`);
    await page.getByRole('radio', { name: 'File server (FCI)' }).check();
    await page.getByRole('button', { name: 'Add', exact: true }).click();

    const row = page.locator('.authorized-list tbody tr').filter({ hasText: MARKUP });
    await row.waitFor({ timeout: config.timeoutMs });
    assert.equal(await row.locator('.account').textContent(), `CONTOSO\\${MARKUP}`);
    assert.equal(await imageCount(page), 0, 'no <img> element was created');
    await screenshot(page, 'authorized-markup-as-text');

    // Remove: the dialog asks first; Cancel keeps the entry, Remove deletes it.
    await row.getByRole('button', { name: /Remove/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: config.timeoutMs });
    assert.match(await dialog.textContent(), /img src=x/, 'the dialog names the entry as text');
    assert.equal(await imageCount(page), 0, 'no <img> element in the dialog either');
    await screenshot(page, 'authorized-remove-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await row.count(), 1, 'Cancel keeps the entry');
    await row.getByRole('button', { name: /Remove/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached', timeout: config.timeoutMs });
    await waitForStatus(page, /Removed/, 'ok');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});
