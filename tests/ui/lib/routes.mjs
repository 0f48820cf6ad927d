// routes.mjs: tells whether the connector under test serves an admin API route yet, so a
// test step whose route is still being built reports "SKIP: route ... not implemented"
// instead of failing. Only the routes listed in PENDING may be skipped; any other missing
// route is a failure like any other.

import { config } from './harness.mjs';

/**
 * Admin API routes (docs/admin-api.md) still being built, as "METHOD /path": a test that needs
 * one of them skips with "SKIP: route ... not implemented (404)" while the connector does not
 * serve it. The browser tests were written against a mock; when they first ran against the
 * real connector, certificate, directory search, server configuration, backup and restore,
 * settings, maintenance, stats, appliances and the event download were in this list. Every
 * route has landed since, so it is empty: a missing route is a failure again. Add a route
 * here only while it is being built.
 */
export const PENDING = new Set([]);

/**
 * Probes `method path` with the page's session. A GET answers for itself; any other method is
 * probed with a GET, which a served path answers with 405 (so nothing changes on the
 * appliance). Missing means the static fallback's 404 `not_found`, or 501.
 * Returns `null` when the route is served, else the HTTP status that says it is not.
 */
export async function routeMissing(page, method, routePath) {
  const response = await page.request.get(`${config.adminUrl}${routePath}`, {
    headers: { accept: 'application/json' },
    failOnStatusCode: false,
    maxRedirects: 0,
  });
  const status = response.status();
  if (status === 501) return status;
  if (status !== 404) return null;
  let code = null;
  try {
    code = (await response.json()).error;
  } catch {
    code = null;
  }
  // A served GET route may answer 404 for "nothing there" with a code of its own.
  return code === 'not_found' ? status : null;
}

/**
 * Skips test `t` (and returns true) when one of `routes` ("METHOD /path") is pending and not
 * served; the skip reason names the route. A missing route that is not pending does not skip:
 * the test then fails on it, as it should.
 */
export async function skipIfPending(t, page, routes) {
  for (const route of routes) {
    const [method, routePath] = route.split(' ');
    const key = `${method} ${routePath.split('?')[0]}`;
    if (!PENDING.has(key)) continue;
    const status = await routeMissing(page, method, routePath);
    if (status !== null) {
      const reason = `SKIP: route ${key} not implemented (${status})`;
      t.skip(reason);
      return true;
    }
  }
  return false;
}
