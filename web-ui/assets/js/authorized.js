// authorized.js: the tenant's list of servers allowed to use the connector (shared by every
// appliance of the tenant): list, add (see authorized-add.js) and remove with confirmation.

import { busy, confirmDialog, h, pageHeading, replace, section, statusLine, when } from './dom.js';
import { addForm } from './authorized-add.js';

export const ROLE_LABELS = {
  exchange: 'Exchange',
  sharepoint: 'SharePoint',
  fileserver: 'File server (FCI)',
};

export const KIND_LABELS = {
  account: 'User or service account',
  user: 'User or service account',
  computer: 'Computer',
  group: 'Group',
};

/** The display name of an entry (the server calls it `account`; the API document `name`). */
export function entryName(entry) {
  return entry.account || entry.name || '';
}

function cell(label, ...content) {
  return h('td', { 'data-label': label }, ...content);
}

/** Renders the list and the add form into `container`. */
export function authorizedPanel(ctx, container) {
  const status = statusLine();
  const listArea = h('div', { class: 'authorized-list', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  let entries = [];

  function showList(list) {
    entries = (list && list.entries) || [];
    const version = list && list.version !== undefined ? `List version ${list.version}.` : '';
    if (entries.length === 0) {
      replace(listArea, h('p', { class: 'callout warning' },
        'No server is authorized yet, so the connector refuses every caller. Add the accounts your Exchange, SharePoint and file servers use.'));
      return;
    }
    const rows = entries.map((entry) => {
      const name = entryName(entry);
      const remove = h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${name}` }, 'Remove');
      remove.addEventListener('click', () => removeEntry(entry, remove));
      return h('tr', {},
        cell('Account', h('span', { class: 'account' }, name)),
        cell('Type', KIND_LABELS[entry.kind] || entry.kind || '-'),
        cell('Role', ROLE_LABELS[entry.role] || entry.role, entry.role === 'exchange' ? h('span', { class: 'badge warn' }, 'super user') : null),
        cell('SID', entry.sid ? h('code', { class: 'wrap' }, entry.sid) : '-'),
        cell('Added by', entry.added_by || '-'),
        cell('Added', when(entry.added_at)),
        cell('Actions', remove));
    });
    replace(listArea,
      h('table', { class: 'data stack' },
        h('caption', {}, `${entries.length} authorized ${entries.length === 1 ? 'entry' : 'entries'}. ${version}`),
        h('thead', {}, h('tr', {}, ['Account', 'Type', 'Role', 'SID', 'Added by', 'Added', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)));
  }

  async function removeEntry(entry, button) {
    const name = entryName(entry);
    const sure = await confirmDialog('Remove this authorization?',
      `${name} will no longer be able to use the connector, on every appliance of the tenant.`, 'Remove');
    if (!sure) { button.focus(); return; }
    await busy(button, status, async () => {
      const key = entry.sid || name;
      showList(await ctx.api.del(`/api/v1/authorized/${encodeURIComponent(key)}`));
      status.ok(`Removed ${name}.`);
      ctx.announce(`Removed ${name}.`);
      const heading = container.querySelector('h2');
      if (heading) heading.focus();
    });
  }

  const add = h('div', {});
  addForm(ctx, add, (list, added) => {
    showList(list);
    status.ok(`Added ${added}.`);
  });

  replace(container,
    section('Servers allowed to use the connector', listArea, status.el),
    section('Add a server', add));
  container.querySelectorAll('h2').forEach((el) => el.setAttribute('tabindex', '-1'));
  ctx.api.get('/api/v1/authorized').then(showList).catch((error) => {
    // Never leave "Loading…" behind: say that the list is missing, and why below.
    replace(listArea, h('p', {}, 'The list could not be read.'));
    status.error(error.message);
  });
  return { entries: () => entries };
}

/** The #/authorized page. */
export function render(ctx, main) {
  const container = h('div', {});
  replace(main, h('div', { class: 'page' },
    pageHeading('Authorized servers'),
    h('p', {}, 'The list belongs to the tenant: every connector appliance uses it and sees changes within seconds.'),
    container));
  authorizedPanel(ctx, container);
}

/** Wizard step 8. */
export function authorizedStep(ctx, body) {
  const container = h('div', {});
  replace(body, h('p', {}, 'Authorize the accounts that your on-premises servers run as. You can change this list later on the Authorized servers page.'), container);
  authorizedPanel(ctx, container);
  return { nextLabel: 'Finish', async next() { return true; } };
}
