// events.js: the event log with filters by level, id and text, paging to older events, and a
// download of the whole log.

import { badge, busy, field, h, pageHeading, replace, section, select, statusLine, when } from './dom.js';

const PAGE = 50;

const CATALOGUE = {
  1000: 'connector started', 1001: 'connector stopped', 1002: 'server connected for the first time',
  1003: 'client moved to HTTPS', 1004: 'authorized-server list updated', 2000: 'request without a Windows identity',
  2001: 'unauthorized access attempt', 2002: 'client uses plain HTTP', 2003: 'authorized-server list empty',
  3000: 'unhandled failure', 3001: 'authorized-server list could not be fetched', 4002: 'administrative change',
};

function levelBadge(level) {
  return badge(level, level === 'error' ? 'bad' : level === 'warning' ? 'warn' : 'info');
}

function fieldsOf(event) {
  const entries = Object.entries(event.fields || {});
  if (entries.length === 0) return null;
  return h('details', {}, h('summary', {}, 'Details'),
    h('dl', { class: 'facts small' }, entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])));
}

/** The #/events page. */
export function render(ctx, main) {
  const status = statusLine();
  const level = select('Level', [['', 'All'], ['warning', 'Warnings and errors'], ['error', 'Errors only']], { name: 'level' });
  const id = field('Event id', { name: 'id', type: 'number', min: '0', max: '65535', inputmode: 'numeric' });
  const text = field('Text', { name: 'text', type: 'search', autocomplete: 'off' });
  const apply = h('button', { type: 'submit', class: 'primary' }, 'Show');
  const download = h('a', { href: '/api/v1/events/download', download: 'rmsc-events.txt', class: 'button' }, 'Download all events');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events', novalidate: true },
    level.row, id.row, text.row, h('div', { class: 'actions' }, apply, download));
  const tbody = h('tbody', {});
  const table = h('table', { class: 'data stack events' },
    h('caption', { class: 'visually-hidden' }, 'Events, newest first'),
    h('thead', {}, h('tr', {}, ['Time', 'Level', 'Id', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const more = h('button', { type: 'button', hidden: true }, 'Older events');
  const count = h('p', { 'aria-live': 'polite' });
  let oldest = null;
  let shown = 0;

  function query(before) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (level.input.value) params.set('level', level.input.value);
    const idValue = id.input.value.trim();
    if (idValue) params.set('id', idValue);
    if (text.input.value.trim()) params.set('text', text.input.value.trim());
    if (before !== null && before !== undefined) params.set('before', String(before));
    return `/api/v1/events?${params}`;
  }

  function addRows(events) {
    for (const e of events) {
      tbody.append(h('tr', { class: `level-${e.level}` },
        h('td', { 'data-label': 'Time' }, when(e.time, true)),
        h('td', { 'data-label': 'Level' }, levelBadge(e.level)),
        h('td', { 'data-label': 'Id' }, h('span', { title: CATALOGUE[e.id] || '' }, String(e.id))),
        h('td', { 'data-label': 'Message', class: 'message' }, h('span', {}, e.message), fieldsOf(e))));
    }
    shown += events.length;
    if (events.length) oldest = events[events.length - 1].seq;
    more.hidden = events.length < PAGE;
    count.textContent = shown === 0 ? 'No events match.' : `${shown} events shown.`;
    table.hidden = shown === 0;
  }

  async function load(reset, button) {
    const idValue = id.input.value.trim();
    if (idValue && !/^\d{1,5}$/.test(idValue)) {
      status.error('The event id is a number such as 2001.');
      id.input.focus();
      return;
    }
    await busy(button, status, async () => {
      const events = (await ctx.api.get(query(reset ? null : oldest))) || [];
      if (reset) { replace(tbody); shown = 0; oldest = null; }
      addRows(events);
      status.clear();
    });
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(true, apply); });
  more.addEventListener('click', () => load(false, more));

  replace(main, h('div', { class: 'page' },
    pageHeading('Events'),
    section('Filter', form),
    section('Log', count, table, more, status.el),
    h('details', { class: 'catalogue' }, h('summary', {}, 'Event ids'),
      h('dl', { class: 'facts small' }, Object.entries(CATALOGUE).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])))));
  load(true, apply);
}
