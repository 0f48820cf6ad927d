// routes.mjs: tells whether the connector under test serves an admin API route yet, so a
// test step whose route is still being built reports "SKIP: route ... not implemented"
// instead of failing. Only the routes listed in PENDING may be skipped; any other missing
// route is a failure like any other.

import { config } from './harness.mjs';

/**
 * Routes of docs/admin-api.md that the connector was still gaining when these tests were
 * first run against it (certificate, directory search, server configuration, backup and
 * restore, settings, maintenance, stats, appliances, the event download). Remove entries as
 * they land; an empty list means every route must exist.
 */
export const PENDING = new Set([
  'GET /api/v1/settings/network', 'PUT /api/v1/settings/network',
  'GET /api/v1/settings/proxy', 'PUT /api/v1/settings/proxy', 'POST /api/v1/settings/proxy/test',
  'GET /api/v1/certificate', 'POST /api/v1/certificate', 'POST /api/v1/certificate/csr',
  'POST /api/v1/certificate/self-signed',
  'GET /api/v1/directory/search',
  'GET /api/v1/serverconfig',
  'POST /api/v1/backup', 'POST /api/v1/restore',
  'POST /api/v1/maintenance/reboot', 'POST /api/v1/maintenance/shutdown',
  'POST /api/v1/maintenance/factory-reset',
  'GET /api/v1/stats', 'GET /api/v1/appliances', 'GET /api/v1/events/download',
]);

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
