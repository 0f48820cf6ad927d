// authorized-add.js: adds an account, computer or group to the authorized-server list, found
// through a directory search (which gives the SID) or typed by hand, with a role choice.

import { busy, field, h, radios, replace, select, statusLine } from './dom.js';

const SID = /^S-1-\d+(-\d+)+$/i;

/** Maps a directory object kind to the list's entry kind. */
export function entryKind(kind) {
  return kind === 'computer' || kind === 'group' ? kind : 'account';
}

/** Renders the add form into `container`; `onAdded(list, name)` runs after each addition. */
export function addForm(ctx, container, onAdded) {
  const status = statusLine();
  const source = radios('How to find the account', 'add-source', [
    ['search', 'Search the directory'],
    ['manual', 'Enter it by hand'],
  ], 'search');

  // Directory search.
  const query = field('Name to search for', { name: 'q', type: 'search', autocomplete: 'off', spellcheck: 'false' },
    'Part of a user, computer or group name, such as Exchange or EXCH01.');
  const kind = select('Type', [['', 'Any'], ['group', 'Group'], ['computer', 'Computer'], ['user', 'User or service account']], { name: 'kind' });
  const searchButton = h('button', { type: 'submit' }, 'Search');
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  let found = [];
  let pickInputs = [];
  const searchForm = h('form', { class: 'search-row', role: 'search', novalidate: true }, query.row, kind.row, h('div', { class: 'actions' }, searchButton));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = query.input.value.trim();
    if (!q) { status.error('Enter part of a name to search for.'); query.input.focus(); return; }
    busy(searchButton, status, async () => {
      status.info('Searching the directory…');
      const params = new URLSearchParams({ q, kind: kind.input.value });
      found = (await ctx.api.get(`/api/v1/directory/search?${params}`)) || [];
      showResults();
      status.clear();
    });
  });

  function showResults() {
    if (found.length === 0) {
      pickInputs = [];
      replace(results, h('p', {}, 'Nothing found. Check the spelling, or enter the account by hand.'));
      return;
    }
    const group = radios(`${found.length} found: choose one`, 'pick', found.map((o, i) => [
      String(i), `${o.name} (${o.kind}${o.scope ? `, ${o.scope}` : ''})`, o.sid || o.dn || null,
    ]), '0');
    pickInputs = group.inputs;
    replace(results, group.fieldset);
  }
  const searchPart = h('div', { class: 'choice-part' }, searchForm, results);

  // Typed by hand.
  const manualName = field('Account', { name: 'account', autocomplete: 'off', spellcheck: 'false', placeholder: 'CONTOSO\\EXCH01$' },
    'DOMAIN\\name; computer accounts end in $.');
  const manualSid = field('SID (optional)', { name: 'sid', autocomplete: 'off', spellcheck: 'false', placeholder: 'S-1-5-21-…' },
    'With the SID, the entry keeps working if the account is renamed.');
  const manualKind = select('Type', [['account', 'User or service account'], ['computer', 'Computer'], ['group', 'Group']], { name: 'manual_kind' });
  const manualPart = h('div', { class: 'choice-part' }, manualName.row, manualSid.row, manualKind.row);

  const syncSource = () => {
    searchPart.hidden = source.value() !== 'search';
    manualPart.hidden = source.value() !== 'manual';
  };
  source.inputs.forEach((i) => i.addEventListener('change', syncSource));
  syncSource();

  // Role.
  const role = radios('Role', 'role', [
    ['exchange', 'Exchange', 'Exchange servers, normally through the group "Exchange Servers".'],
    ['sharepoint', 'SharePoint', 'The Central Administration and application-pool service accounts.'],
    ['fileserver', 'File server (FCI)', 'The computer account SERVERNAME$, or a group of them.'],
  ], null);
  const superUser = h('div', { class: 'callout danger', role: 'alert', hidden: true },
    h('strong', {}, 'Super user: '),
    'every account in an Exchange entry can read all protected content of the tenant. Authorize only the accounts your Exchange servers use.');
  role.inputs.forEach((i) => i.addEventListener('change', () => { superUser.hidden = role.value() !== 'exchange'; }));

  function chosen() {
    if (source.value() === 'manual') {
      const name = manualName.input.value.trim();
      const sid = manualSid.input.value.trim();
      if (!name) { manualName.input.focus(); throw new Error('Enter the account as DOMAIN\\name.'); }
      if (sid && !SID.test(sid)) { manualSid.input.focus(); throw new Error('That is not a SID (S-1-5-21-…). Leave it empty if you do not know it.'); }
      return { name, sid: sid || null, kind: manualKind.input.value };
    }
    const picked = pickInputs.find((i) => i.checked);
    if (!picked) { query.input.focus(); throw new Error('Search the directory and choose a result first.'); }
    const object = found[Number(picked.value)];
    return { name: object.account || object.name, sid: object.sid || null, kind: entryKind(object.kind) };
  }

  const addButton = h('button', { type: 'button', class: 'primary' }, 'Add');
  addButton.addEventListener('click', () => busy(addButton, status, async () => {
    const entry = chosen();
    const roleValue = role.value();
    if (!roleValue) { role.inputs[0].focus(); throw new Error('Choose the role of this server.'); }
    const list = await ctx.api.post('/api/v1/authorized', {
      account: entry.name, name: entry.name, sid: entry.sid, kind: entry.kind, role: roleValue,
    });
    manualName.input.value = '';
    manualSid.input.value = '';
    onAdded(list, entry.name);
    status.clear();
    ctx.announce(`Added ${entry.name}.`);
  }));

  replace(container, source.fieldset, searchPart, manualPart, role.fieldset, superUser,
    h('div', { class: 'actions' }, addButton), status.el);
}
