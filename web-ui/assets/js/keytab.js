// keytab.js: the Kerberos keytab of the connector's service principal: upload, then show the
// principal, key version and encryption types. RC4-only keytabs are refused by the appliance.

import { badge, busy, facts, field, h, readBytes, replace, statusLine } from './dom.js';

const WEAK = /rc4|arcfour|des/i;

function describe(keytab) {
  if (!keytab || !keytab.present) {
    return h('p', {}, 'No keytab is installed yet. Callers cannot authenticate until one is.');
  }
  const enctypes = keytab.enctypes || [];
  const problems = keytab.problems || [];
  const warnings = keytab.warnings || [];
  return h('div', {},
    facts([
      ['Principal', keytab.principal],
      ['Key version (kvno)', keytab.kvno === undefined ? null : String(keytab.kvno)],
      ['Encryption types', h('span', {}, enctypes.map((e) => badge(e, WEAK.test(e) ? 'warn' : 'ok')))],
    ]),
    problems.length ? h('ul', { class: 'problems', 'aria-label': 'Problems' },
      problems.map((p) => h('li', {}, typeof p === 'string' ? p : (p.message || p.code)))) : null,
    warnings.length ? h('ul', { class: 'warnings', 'aria-label': 'Warnings' },
      warnings.map((w) => h('li', {}, typeof w === 'string' ? w : (w.message || w.code)))) : null);
}

/** Renders the keytab panel into `container`. */
export function keytabPanel(ctx, container) {
  const status = statusLine();
  const current = h('div', { class: 'keytab-current', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  let keytab = null;
  const show = (k) => { keytab = k; replace(current, describe(k)); };

  const file = field('Keytab file', { type: 'file', name: 'keytab', accept: '.keytab,.kt,application/octet-stream' },
    'Export it for HTTP/<connector name> with AES keys, for example with ktpass or samba-tool domain exportkeytab. Use the same keytab (same kvno) on every appliance.');
  const upload = h('button', { type: 'button', class: 'primary' }, 'Upload keytab');
  upload.addEventListener('click', () => busy(upload, status, async () => {
    const chosen = file.input.files[0];
    if (!chosen) throw new Error('Choose a keytab file first.');
    if (chosen.size > 1024 * 1024) throw new Error('That file is too large to be a keytab.');
    status.info('Checking the keytab…');
    show(await ctx.api.upload('PUT', '/api/v1/keytab', await readBytes(chosen)));
    file.input.value = '';
    status.ok('Keytab installed.');
    ctx.announce('Keytab installed.');
  }));

  replace(container, current, h('div', { class: 'upload' }, file.row, upload), status.el);
  const loaded = ctx.api.get('/api/v1/keytab').then(show).catch((error) => {
    // Never leave "Loading…" behind: say that the facts are missing, and why below.
    replace(current, h('p', {}, 'The keytab could not be read.'));
    status.error(error.message);
  });
  return { loaded, current: () => keytab };
}

/** Wizard step 7. */
export function keytabStep(ctx, body, wiz) {
  const container = h('div', {});
  replace(body,
    h('p', {}, 'Exchange, SharePoint and file servers authenticate to the connector with Kerberos. The appliance needs the keytab of the service account that holds the SPN HTTP/<connector name>.'),
    container);
  const panel = keytabPanel(ctx, container);
  wiz.allowSkip();
  return {
    async next() {
      const keytab = panel.current();
      if (keytab && keytab.present) return true;
      throw new Error('Upload the keytab first, or skip this step for now.');
    },
  };
}
