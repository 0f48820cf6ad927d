// dashboard.js: the state of this appliance at a glance: registration, cloud, certificate,
// keytab, clock, live request rates, the tenant's other appliances and recent events.

import { badge, day, daysUntil, duration, facts, h, pageHeading, replace, section, when } from './dom.js';
import { problemText } from './certificate.js';
import { createSampler, drawChart } from './chart.js';
import { ROLE_LABELS } from './authorized.js';
import { pairingPanel } from './pairing.js';

const STATS_EVERY_MS = 5000;
const STATUS_EVERY_MS = 15000;

function expiryBadge(notAfter) {
  if (!notAfter) return badge('none', 'warn');
  const left = daysUntil(notAfter);
  if (left < 0) return badge('expired', 'bad');
  return badge(`${day(notAfter)} (${left} days)`, left < 30 ? 'warn' : 'ok');
}

function problemsList(problems) {
  if (!problems || problems.length === 0) return null;
  return h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, problemText(p))));
}

function card(title, body) {
  const box = h('div', {}, body);
  return { el: section(title, box), set: (...nodes) => replace(box, ...nodes) };
}

/** The #/dashboard page. */
export function render(ctx, main) {
  const api = ctx.api;
  const reg = card('Registration', 'Loading…');
  const cloud = card('Cloud service', 'Loading…');
  const cert = card('Certificates', 'Loading…');
  const keytab = card('Kerberos keytab', 'Loading…');
  const clock = card('Clock', 'Loading…');
  const canvas = h('canvas', { class: 'chart', role: 'img', 'aria-label': 'Requests and errors per second over the last minutes' });
  const legend = h('p', { class: 'legend' }, h('span', { class: 'key ok' }, 'requests/s'), ' ', h('span', { class: 'key bad' }, 'errors/s'));
  const rateSummary = h('p', { 'aria-live': 'polite', class: 'rate-summary' }, 'Measuring…');
  const rateTable = h('div', {});
  const traffic = section('Requests by role and operation', rateSummary, canvas, legend, rateTable);
  // The appliance list and, below it, pairing: a list reload must not remove a code shown.
  const applianceList = h('div', {}, 'Loading…');
  const pairing = pairingPanel(ctx, { onJoined: () => loadAppliances().catch(() => {}) });
  const appliances = {
    el: section('Appliances of the tenant', applianceList, pairing.el),
    set: (...nodes) => replace(applianceList, ...nodes),
  };
  const events = card('Recent events', 'Loading…');
  const sampler = createSampler();
  const timers = [];

  replace(main, h('div', { class: 'page dashboard' },
    pageHeading('Dashboard'),
    h('div', { class: 'grid' }, reg.el, cloud.el, cert.el, keytab.el, clock.el),
    traffic, appliances.el, events.el));

  const fail = (target) => (error) => target.set(h('p', { class: 'error-text' }, error.message));

  async function loadStatus() {
    const s = await api.get('/api/v1/status');
    reg.set(facts([
      ['State', s.registered ? badge('Registered', 'ok') : badge('Not registered', 'bad')],
      ['Ready for callers', s.ready ? badge('Ready', 'ok') : badge('Not ready', 'bad')],
      ['Connector name', s.connector_name],
      ['Appliance', s.appliance_name],
      ['Version', s.version],
      ['Tenant', s.tenant_id],
    ]), s.ready_reasons && s.ready_reasons.length
      ? h('ul', { class: 'problems', 'aria-label': 'Why not ready' }, s.ready_reasons.map((r) => h('li', {}, r))) : null,
    s.registered ? null : h('p', {}, h('a', { href: '#/setup' }, 'Continue the setup')));
    cloud.set(facts([
      ['Reachable', s.cloud_last_error ? badge('Problem', 'bad') : badge('Yes', 'ok')],
      ['Latency', s.cloud_latency_ms === null || s.cloud_latency_ms === undefined ? null : `${s.cloud_latency_ms} ms`],
      ['Last error', s.cloud_last_error || 'none'],
      ['Authorized-server list', `version ${s.list_version}, ${s.list_entries} entries`],
      ['Last list sync', s.list_confirmed_secs_ago === null || s.list_confirmed_secs_ago === undefined ? 'never' : `${duration(s.list_confirmed_secs_ago)} ago`],
    ]));
    const skew = s.clock_skew_secs !== undefined && s.clock_skew_secs !== null ? Number(s.clock_skew_secs) : null;
    const browserSkew = api.clockSkewSecs();
    clock.set(facts([
      ['Appliance time', s.time ? when(s.time) : new Date(Date.now() + (browserSkew || 0) * 1000).toLocaleString()],
      ['Skew against the time servers', skew === null ? 'not reported' : h('span', {}, `${skew} s `, Math.abs(skew) > 300 ? badge('Kerberos will fail', 'bad') : badge('OK', 'ok'))],
      ['Difference from this computer', browserSkew === null ? '-' : `${browserSkew} s`],
    ]));
    return s;
  }

  async function loadCertAndKeytab(status) {
    const [c, k] = await Promise.all([
      api.get('/api/v1/certificate').catch(() => null),
      api.get('/api/v1/keytab').catch(() => null),
    ]);
    cert.set(facts([
      ['HTTPS certificate', c && c.subject ? c.subject : 'none'],
      ['HTTPS certificate expires', c && c.not_after ? expiryBadge(c.not_after) : '-'],
      ['Connector (cloud) certificate expires', status && status.certificate_not_after ? expiryBadge(status.certificate_not_after) : '-'],
    ]), problemsList(c && c.problems));
    keytab.set(k && k.present
      ? facts([['Principal', k.principal], ['kvno', String(k.kvno)], ['Encryption types', (k.enctypes || []).join(', ')]])
      : h('p', {}, badge('Missing', 'bad'), ' Upload it under Settings.'), problemsList(k && k.problems));
  }

  async function loadAppliances() {
    const list = (await api.get('/api/v1/appliances')) || [];
    appliances.set(list.length === 0 ? h('p', {}, 'No appliance has reported yet.') : h('table', { class: 'data stack' },
      h('thead', {}, h('tr', {}, ['Name', 'Version', 'Address', 'Last seen', 'Health'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, list.map((a) => h('tr', {},
        h('td', { 'data-label': 'Name' }, a.name || a.connector_id),
        h('td', { 'data-label': 'Version' }, a.version || '-'),
        h('td', { 'data-label': 'Address' }, a.address || '-'),
        h('td', { 'data-label': 'Last seen' }, when(a.last_seen)),
        h('td', { 'data-label': 'Health' }, a.healthy ? badge('Healthy', 'ok') : badge('Unhealthy', 'bad')))))));
  }

  async function loadEvents() {
    const list = (await api.get('/api/v1/events?limit=8')) || [];
    events.set(list.length === 0 ? h('p', {}, 'No events.') : h('ul', { class: 'event-list' },
      list.map((e) => h('li', { class: `level-${e.level}` },
        badge(e.level, e.level === 'error' ? 'bad' : e.level === 'warning' ? 'warn' : 'info'),
        ` ${when(e.time, true)} `, h('strong', {}, String(e.id)), ` ${e.message}`))),
    h('p', {}, h('a', { href: '#/events' }, 'All events')));
  }

  async function loadStats() {
    const stats = await api.get('/api/v1/stats');
    const rates = sampler.add(stats, Date.now());
    drawChart(canvas, sampler.history);
    if (!rates) return;
    rateSummary.textContent = `${rates.total.toFixed(1)} requests/s, ${rates.errors.toFixed(1)} errors/s (uptime ${duration(stats.uptime_secs)}).`;
    canvas.setAttribute('aria-label', `Requests and errors per second, ${sampler.history.length} samples; latest ${rates.total.toFixed(1)} requests/s and ${rates.errors.toFixed(1)} errors/s`);
    replace(rateTable, rates.rows.length === 0 ? h('p', {}, 'No requests yet.') : h('table', { class: 'data stack' },
      h('thead', {}, h('tr', {}, ['Role', 'Operation', 'Requests/s', 'Errors/s', 'Total', 'Errors total'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rates.rows.map((r) => h('tr', {},
        h('td', { 'data-label': 'Role' }, ROLE_LABELS[r.role] || r.role),
        h('td', { 'data-label': 'Operation' }, r.operation),
        h('td', { 'data-label': 'Requests/s', class: 'num' }, r.rate.toFixed(2)),
        h('td', { 'data-label': 'Errors/s', class: r.errorRate > 0 ? 'num error-text' : 'num' }, r.errorRate.toFixed(2)),
        h('td', { 'data-label': 'Total', class: 'num' }, String(r.count)),
        h('td', { 'data-label': 'Errors total', class: 'num' }, String(r.errorCount)))))));
  }

  const refreshStatus = () => loadStatus()
    .then((s) => loadCertAndKeytab(s))
    .catch(fail(reg));
  refreshStatus();
  loadAppliances().catch(fail(appliances));
  loadEvents().catch(fail(events));
  loadStats().catch(() => { rateSummary.textContent = 'Request statistics are not available.'; });
  // A second sample soon after the first gives a rate without waiting a whole period.
  timers.push(window.setTimeout(() => loadStats().catch(() => {}), 1500));
  timers.push(window.setInterval(() => loadStats().catch(() => {}), STATS_EVERY_MS));
  timers.push(window.setInterval(() => {
    refreshStatus();
    loadAppliances().catch(() => {});
    loadEvents().catch(() => {});
    pairing.refresh();
  }, STATUS_EVERY_MS));
  const onResize = () => drawChart(canvas, sampler.history);
  window.addEventListener('resize', onResize);
  return () => {
    // clearInterval also clears timeouts: both share one id pool.
    timers.forEach((t) => window.clearInterval(t));
    pairing.stop();
    window.removeEventListener('resize', onResize);
  };
}
