// harness.mjs: shared setup of the browser tests: configuration from the environment, a
// headless Chromium (Debian's), page watchers that fail on script errors, CSP violations and
// dialogs, screenshots, and polls with a deadline.

import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see tests/ui/run.sh)`);
  return value;
}

/** Everything the tests need to know, from the environment. */
export const config = {
  get adminUrl() { return required('RMSC_ADMIN_URL').replace(/\/$/, ''); },
  get setupCode() { return required('RMSC_SETUP_CODE'); },
  get standinUrl() { return (process.env.RMSC_STANDIN_URL || '').replace(/\/$/, ''); },
  get labDir() { return required('RMSC_LAB_DIR'); },
  /** A second, fresh connector of the same tenant (pairing.test.mjs; run-e2e.sh starts it). */
  get secondAdminUrl() { return required('RMSC_SECOND_ADMIN_URL').replace(/\/$/, ''); },
  get secondSetupCode() { return required('RMSC_SECOND_SETUP_CODE'); },
  artifacts: process.env.RMSC_ARTIFACTS || path.join(HERE, '..', 'artifacts'),
  chromium: process.env.RMSC_CHROMIUM || '/usr/bin/chromium',
  adminUser: process.env.RMSC_ADMIN_USER || 'admin',
  // Has every character a careless form encoder breaks on, and is long enough for the rule.
  adminPassword: process.env.RMSC_ADMIN_PASSWORD || 'Ui-test &<>"\' pass 42',
  connectorName: process.env.RMSC_CONNECTOR_NAME || 'rmsconnector.contoso.test',
  timeoutMs: Number(process.env.RMSC_UI_TIMEOUT_MS || 20000),
};

/** The cloud stand-in's fixture users (tests/rmsc-cloud-standin/src/fixture.rs). */
export const users = {
  rmsAdmin: { upn: 'rmsadmin@contoso.test', password: 'Passw0rd!' },
  mfa: { upn: 'mfa@contoso.test', password: 'Passw0rd!', otp: '424242' },
  globalAdmin: { upn: 'admin@contoso.test', password: 'Adm1n&<>"\'pass' },
  noRoles: { upn: 'noroles@contoso.test', password: 'Passw0rd!' },
};

export const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Starts Chromium. */
export function launch() {
  return chromium.launch({ executablePath: config.chromium, headless: true, args: LAUNCH_ARGS });
}

/**
 * Makes `page.goto` retry, until the deadline, a navigation that Chromium aborted with
 * ERR_NETWORK_CHANGED: it aborts loads whenever an interface of the host changes, and on a
 * test machine other AD labs add and remove their veth interfaces at any time.
 */
function retryNetworkChanges(page) {
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    const deadline = Date.now() + config.timeoutMs;
    for (;;) {
      try {
        return await goto(url, options);
      } catch (error) {
        if (!/ERR_NETWORK_CHANGED/.test(String(error && error.message)) || Date.now() > deadline) throw error;
        await new Promise((resolve) => { setTimeout(resolve, 200); });
      }
    }
  };
  return page;
}

/** A new browser context that accepts the appliance's self-signed certificate. */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  const newPage = context.newPage.bind(context);
  context.newPage = async () => retryNetworkChanges(await newPage());
  return context;
}

/**
 * Records what must never happen on a page: uncaught exceptions, console errors (CSP
 * violations are reported there), and JavaScript dialogs such as alert() from injected markup.
 */
export function watch(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // An API answer of 4xx is logged by Chromium as a failed resource; that is expected
    // in the negative tests. Everything else (script errors, CSP) is a failure.
    if (/Failed to load resource: the server responded with a status of [45]\d\d/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return {
    problems,
    assertClean() { assert.deepEqual(problems, [], `problems on the page:\n${problems.join('\n')}`); },
  };
}

let shotCounter = 0;
/** Saves a full-page screenshot as `<artifacts>/<nn>-<name>.png`. */
export async function screenshot(page, name) {
  fs.mkdirSync(config.artifacts, { recursive: true });
  shotCounter += 1;
  const prefix = path.basename(process.argv[1] || 'ui', '.test.mjs');
  const file = path.join(config.artifacts, `${prefix}-${String(shotCounter).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function pollUntil(check, what, timeoutMs = config.timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((resolve) => { setTimeout(resolve, intervalMs); });
  }
}

/** Waits until the page heading (the focused h1 of each page or step) reads `text`. */
export async function waitForHeading(page, text) {
  await page.locator('h1.page-heading', { hasText: text }).waitFor({ state: 'visible', timeout: config.timeoutMs });
}

/** Waits for a status line (role=status) with text matching `pattern`; returns its text. */
export async function waitForStatus(page, pattern, kind = null) {
  const selector = kind ? `p.status.${kind}` : 'p.status';
  const locator = page.locator(selector).filter({ hasText: pattern }).first();
  await locator.waitFor({ state: 'visible', timeout: config.timeoutMs });
  return locator.textContent();
}

/** Opens the admin site (of `baseUrl`, default the first connector's) and signs in. */
export async function signIn(page, baseUrl = config.adminUrl) {
  await page.goto(`${baseUrl}/`);
  await waitForHeading(page, 'Sign in');
  await page.getByLabel('User name').fill(config.adminUser);
  await page.getByLabel('Password').fill(config.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav').waitFor({ state: 'visible', timeout: config.timeoutMs });
}

/** Whether the focused element is the page heading (focus management on page change). */
export function headingHasFocus(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.matches('h1.page-heading'));
}

/** The number of <img> elements in the document (injected markup would add one). */
export function imageCount(page) {
  return page.locator('img').count();
}
