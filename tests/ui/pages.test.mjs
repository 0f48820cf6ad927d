// pages.test.mjs: every page on a laptop and a phone screen (screenshots into the artifacts
// directory), keyboard focus on navigation, the live chart, event filters and downloads, and
// the harmless halves of maintenance (backup, a restore refused, dialogs cancelled).
// Runs after wizard.test.mjs; never reboots, shuts down or resets the connector. A test whose
// admin API route the connector does not serve yet reports "SKIP: route ..." (lib/routes.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  config, launch, newContext, watch, screenshot, signIn, waitForHeading, waitForStatus, headingHasFocus, pollUntil,
} from './lib/harness.mjs';
import { skipIfPending } from './lib/routes.mjs';

const PAGES = [
  ['dashboard', 'Dashboard'],
  ['authorized', 'Authorized servers'],
  ['events', 'Events'],
  ['servers', 'Server configuration'],
  ['settings', 'Settings'],
  ['maintenance', 'Maintenance'],
  ['setup/network', 'Network'],
];

const SCREENS = [
  ['laptop', { viewport: { width: 1366, height: 900 } }],
  ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
];

for (const [screen, options] of SCREENS) {
  test(`every page renders on a ${screen} screen`, async () => {
    const browser = await launch();
    try {
      const page = await (await newContext(browser, options)).newPage();
      const watcher = watch(page);
      await signIn(page);
      for (const [route, heading] of PAGES) {
        await page.goto(`${config.adminUrl}/#/${route}`);
        await waitForHeading(page, heading);
        // Let the page's first data arrive before the picture.
        await pollUntil(async () => (await page.getByText('Loading…').count()) === 0, `${route} to load`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${route} fits the ${screen} screen width (overflow ${overflow}px)`);
        await screenshot(page, `${screen}-${route.replace('/', '-')}`);
      }
      watcher.assertClean();
    } finally {
      await browser.close();
    }
  });
}

test('navigation moves focus to the page heading and marks the current page', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    const events = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' });
    await events.click();
    await waitForHeading(page, 'Events');
    assert.ok(await headingHasFocus(page), 'the heading has focus after navigation');
    assert.equal(await events.getAttribute('aria-current'), 'page');
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => document.activeElement.closest('main') !== null), 'Tab continues inside the page');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('a page chosen straight after sign-in is not replaced by the default page', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    // Hold the status answer that picks the default page until the administrator has
    // already moved on: the late answer must not pull them to the dashboard.
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let held = 0;
    await page.route('**/api/v1/status', async (route) => {
      held += 1;
      await released;
      await route.continue();
    });
    await signIn(page);
    await pollUntil(async () => held > 0, 'the default-page status request');
    await page.goto(`${config.adminUrl}/#/authorized`);
    await waitForHeading(page, 'Authorized servers');
    const answered = page.waitForEvent('requestfinished', (request) => request.url().endsWith('/api/v1/status'));
    release();
    await answered;
    // The page reads the body and acts on it in tasks of its own; two task turns let it.
    await page.evaluate(() => new Promise((resolve) => setTimeout(() => setTimeout(resolve, 0), 0)));
    assert.equal(await page.evaluate(() => window.location.hash), '#/authorized');
    await waitForHeading(page, 'Authorized servers');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('a lost session shows the sign-in form and returns to the page afterwards', async () => {
  const browser = await launch();
  try {
    const context = await newContext(browser);
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page);
    await page.goto(`${config.adminUrl}/#/authorized`);
    await waitForHeading(page, 'Authorized servers');
    await context.clearCookies();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await waitForHeading(page, 'Sign in');
    assert.match(await page.locator('.notice').textContent(), /expired/i);
    assert.ok(await headingHasFocus(page), 'focus moves to the sign-in heading');
    await page.getByLabel('User name').fill(config.adminUser);
    await page.getByLabel('Password').fill(config.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForHeading(page, 'Events');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('dashboard draws the request chart from two samples', async (t) => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    if (await skipIfPending(t, page, ['GET /api/v1/stats'])) return;
    await page.goto(`${config.adminUrl}/#/dashboard`);
    await waitForHeading(page, 'Dashboard');
    const summary = page.locator('.rate-summary');
    await pollUntil(async () => /requests\/s/.test(await summary.textContent()), 'a rate from two samples', 30000);
    const canvas = page.locator('canvas.chart');
    assert.match(await canvas.getAttribute('aria-label'), /latest [\d.]+ requests\/s/, 'the chart describes itself');
    // The request line is drawn in --chart-ok: some pixel of that colour must exist.
    const painted = await page.evaluate(() => {
      const el = document.querySelector('canvas.chart');
      const probe = el.getContext('2d');
      probe.save();
      probe.fillStyle = getComputedStyle(el).getPropertyValue('--chart-ok').trim();
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(probe.fillStyle.slice(i, i + 2), 16));
      probe.restore();
      const data = probe.getImageData(0, 0, el.width, el.height).data;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8 && data[i + 3] > 200) return true;
      }
      return false;
    });
    assert.ok(painted, 'the request line has been drawn');
    await screenshot(page, 'dashboard-chart');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('events can be filtered by id and level', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    await page.goto(`${config.adminUrl}/#/events`);
    await waitForHeading(page, 'Events');
    await pollUntil(async () => /events shown|No events/.test(await page.locator('main').textContent()), 'the event list');
    await page.getByLabel('Event id').fill('4002');
    await page.getByRole('button', { name: 'Show' }).click();
    await pollUntil(async () => {
      const ids = await page.locator('table.events tbody td[data-label="Id"]').allTextContents();
      return ids.length > 0 && ids.every((id) => id.trim() === '4002');
    }, 'only audit events (4002) after the setup');
    await page.getByLabel('Event id').fill('');
    await page.getByLabel('Level').selectOption('error');
    await page.getByRole('button', { name: 'Show' }).click();
    await pollUntil(async () => {
      const levels = await page.locator('table.events tbody td[data-label="Level"]').allTextContents();
      return levels.every((l) => l.trim() === 'error');
    }, 'only errors');
    await screenshot(page, 'events-filtered');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('all events download as a text file', async (t) => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    if (await skipIfPending(t, page, ['GET /api/v1/events/download'])) return;
    await page.goto(`${config.adminUrl}/#/events`);
    await waitForHeading(page, 'Events');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: config.timeoutMs }),
      page.getByRole('link', { name: 'Download all events' }).click(),
    ]);
    const file = path.join(config.artifacts, 'events-download.txt');
    await download.saveAs(file);
    assert.ok(fs.statSync(file).size > 0, 'the event download has content');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('server configuration files download for each role', async (t) => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    if (await skipIfPending(t, page, ['GET /api/v1/serverconfig?role=exchange&format=reg&scheme=https'])) return;
    await page.goto(`${config.adminUrl}/#/servers`);
    await waitForHeading(page, 'Server configuration');
    await pollUntil(async () => /point servers at https:\/\//.test(await page.locator('main').textContent()), 'the connector URL');
    for (const role of ['Exchange servers', 'SharePoint servers', 'File servers (FCI)']) {
      const card = page.locator('section.card').filter({ has: page.getByRole('heading', { name: role }) });
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: config.timeoutMs }),
        card.getByRole('link', { name: 'Registry file (.reg)' }).click(),
      ]);
      const file = path.join(config.artifacts, `serverconfig-${download.suggestedFilename()}`);
      await download.saveAs(file);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(text.length > 0, `${role}: the .reg file has content`);
    }
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('maintenance: a backup downloads and a wrong passphrase is refused', async (t) => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    if (await skipIfPending(t, page, ['POST /api/v1/backup', 'POST /api/v1/restore'])) return;
    await page.goto(`${config.adminUrl}/#/maintenance`);
    await waitForHeading(page, 'Maintenance');

    await page.getByLabel('Passphrase').first().fill('a long backup passphrase');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: config.timeoutMs }),
      page.getByRole('button', { name: 'Download backup' }).click(),
    ]);
    const backup = path.join(config.artifacts, 'backup.bin');
    await download.saveAs(backup);
    assert.ok(fs.statSync(backup).size > 0, 'the backup has content');

    await page.getByLabel('Backup file').setInputFiles(backup);
    await page.getByLabel('Passphrase').nth(1).fill('not the passphrase');
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await waitForStatus(page, /./, 'error');
    await screenshot(page, 'maintenance-restore-refused');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});

test('maintenance: dangerous actions ask first', async () => {
  const browser = await launch();
  try {
    const page = await (await newContext(browser)).newPage();
    const watcher = watch(page);
    await signIn(page);
    await page.goto(`${config.adminUrl}/#/maintenance`);
    await waitForHeading(page, 'Maintenance');

    await page.getByRole('button', { name: 'Reboot' }).click();
    await page.getByRole('dialog').waitFor({ timeout: config.timeoutMs });
    await screenshot(page, 'maintenance-reboot-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.getByRole('dialog').count(), 0, 'the dialog is gone');

    const reset = page.getByRole('button', { name: 'Factory reset' });
    assert.ok(await reset.isDisabled(), 'factory reset needs the typed confirmation');
    await page.getByLabel(/Type FACTORY RESET/).fill('factory reset');
    assert.ok(await reset.isDisabled(), 'the confirmation is exact');
    await screenshot(page, 'maintenance');
    watcher.assertClean();
  } finally {
    await browser.close();
  }
});
