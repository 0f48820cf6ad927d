// certificate.js: the HTTPS certificate callers see: upload (PEM or PFX with its chain), a
// signing request whose key stays on the appliance, or a self-signed one; shows name match,
// chain, expiry and key problems.

import { badge, busy, daysUntil, facts, field, h, radios, readBytes, replace, statusLine, toBase64, when } from './dom.js';
import { saveBlob } from './api.js';

const PROBLEMS = {
  name_mismatch: 'The certificate does not contain the connector name. Callers will refuse it.',
  expired: 'The certificate has expired.',
  not_yet_valid: 'The certificate is not valid yet.',
  key_mismatch: 'The private key does not belong to this certificate.',
  bad_chain: 'The chain is incomplete or out of order. Include the intermediate certificates.',
  unreadable: 'The file could not be read as a PEM or PFX certificate.',
  self_signed: 'Self-signed: callers must be told to trust it explicitly.',
};

/** A person's sentence for a certificate problem code (or the server's own message). */
export function problemText(p) {
  if (typeof p === 'string') return PROBLEMS[p] || p;
  return p.message || PROBLEMS[p.code] || p.code || JSON.stringify(p);
}

function chainText(c) {
  if (typeof c === 'string') return c;
  const parts = [c.subject, c.issuer ? `issued by ${c.issuer}` : null, c.not_after ? `until ${when(c.not_after)}` : null];
  return parts.filter(Boolean).join(', ');
}

/** Whether a certificate DNS name (maybe a wildcard) covers `name`. */
export function nameMatches(certName, name) {
  const a = String(certName).toLowerCase();
  const b = String(name).toLowerCase();
  if (a === b) return true;
  return a.startsWith('*.') && b.endsWith(a.slice(1)) && !b.slice(0, -a.length + 1).includes('.');
}

function describe(cert, connectorName) {
  if (!cert || (!cert.subject && !cert.source)) return h('p', {}, 'No certificate is installed yet.');
  const names = cert.dns_names || [];
  let match;
  if (!connectorName) match = 'no connector name yet';
  else if (names.some((n) => nameMatches(n, connectorName))) match = badge(`Contains ${connectorName}`, 'ok');
  else match = badge(`Does not contain ${connectorName}`, 'bad');
  const left = cert.not_after ? daysUntil(cert.not_after) : null;
  let expiry = when(cert.not_after);
  if (left !== null) expiry = h('span', {}, `${expiry} `, left < 0 ? badge('expired', 'bad') : left < 30 ? badge(`${left} days left`, 'warn') : badge(`${left} days left`, 'ok'));
  const source = { self_signed: 'Self-signed', uploaded: 'Uploaded', csr_pending: 'Waiting for the certificate of a signing request' }[cert.source] || cert.source;
  const problems = cert.problems || [];
  return h('div', {},
    facts([
      ['Source', source],
      ['Subject', cert.subject],
      ['DNS names', names.join(', ')],
      ['Connector name', match],
      ['Expires', expiry],
      ['SHA-256 fingerprint', cert.fingerprint_sha256 ? h('code', { class: 'wrap' }, cert.fingerprint_sha256) : null],
    ]),
    (cert.chain || []).length ? h('div', {}, h('h3', {}, 'Chain'), h('ol', { class: 'chain' }, cert.chain.map((c) => h('li', {}, chainText(c))))) : null,
    problems.length ? h('ul', { class: 'problems', 'aria-label': 'Problems' }, problems.map((p) => h('li', {}, problemText(p)))) : null);
}

/** Renders the certificate panel into `container`; resolves `loaded` with the status. */
export function certificatePanel(ctx, container, connectorNameHint = '') {
  const status = statusLine();
  const current = h('div', { class: 'cert-current', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  let connectorName = connectorNameHint;
  let cert = null;

  const show = (c) => { cert = c; replace(current, describe(c, connectorName)); };
  const load = () => ctx.api.get('/api/v1/certificate').then(show);

  const choice = radios('Choose how to get a certificate', 'cert-choice', [
    ['upload', 'Upload a certificate', 'PEM with the key and the chain, or a PFX (PKCS #12) file with its password.'],
    ['csr', 'Create a signing request (CSR)', 'The key is made here and never leaves the appliance. Have your CA sign the request, then upload the certificate.'],
    ['self', 'Use a self-signed certificate', 'For tests; callers must be configured to trust it.'],
  ], 'self');

  // Upload.
  const file = field('Certificate file', { type: 'file', name: 'certificate', accept: '.pem,.crt,.cer,.key,.pfx,.p12' });
  const pfxPass = field('PFX password', { type: 'password', name: 'pfx_password', autocomplete: 'off' });
  pfxPass.row.hidden = true;
  const isPfx = () => /\.(pfx|p12)$/i.test((file.input.files[0] || {}).name || '');
  file.input.addEventListener('change', () => { pfxPass.row.hidden = !isPfx(); });
  const uploadButton = h('button', { type: 'button', class: 'primary' }, 'Upload certificate');
  uploadButton.addEventListener('click', () => busy(uploadButton, status, async () => {
    const chosen = file.input.files[0];
    if (!chosen) throw new Error('Choose a certificate file first.');
    const bytes = await readBytes(chosen);
    const body = isPfx()
      ? { pfx_base64: toBase64(bytes), pfx_password: pfxPass.input.value }
      : { pem: new TextDecoder().decode(bytes) };
    status.info('Checking the certificate…');
    show(await ctx.api.post('/api/v1/certificate', body));
    status.ok('Certificate installed.');
  }));
  const uploadPart = h('div', { class: 'choice-part' }, file.row, pfxPass.row, uploadButton);

  // Signing request.
  const csrButton = h('button', { type: 'button', class: 'primary' }, 'Create signing request');
  const csrOut = h('div', {});
  csrButton.addEventListener('click', () => busy(csrButton, status, async () => {
    const answer = await ctx.api.post('/api/v1/certificate/csr');
    const save = h('button', { type: 'button' }, 'Download request');
    save.addEventListener('click', () => saveBlob(new Blob([answer.csr_pem], { type: 'application/pkcs10' }), `${connectorName || 'connector'}.csr`));
    const area = field('Signing request (PEM)', { tag: 'textarea', readonly: true, rows: '8', class: 'mono' });
    area.input.value = answer.csr_pem;
    replace(csrOut, area.row, save, h('p', { class: 'hint' }, 'When the CA has issued the certificate, choose "Upload a certificate" and upload it (PEM, with the chain).'));
    status.ok('Signing request created.');
    await load().catch(() => {});
  }));
  const csrPart = h('div', { class: 'choice-part' }, csrButton, csrOut);

  // Self-signed.
  const selfButton = h('button', { type: 'button', class: 'primary' }, 'Use a self-signed certificate');
  selfButton.addEventListener('click', () => busy(selfButton, status, async () => {
    show(await ctx.api.post('/api/v1/certificate/self-signed'));
    status.ok('Self-signed certificate installed.');
  }));
  const selfPart = h('div', { class: 'choice-part' }, selfButton);

  const parts = { upload: uploadPart, csr: csrPart, self: selfPart };
  const sync = () => Object.entries(parts).forEach(([k, el]) => { el.hidden = choice.value() !== k; });
  choice.inputs.forEach((i) => i.addEventListener('change', sync));
  sync();

  replace(container, current, choice.fieldset, uploadPart, csrPart, selfPart, status.el);
  const loaded = ctx.api.get('/api/v1/status')
    .then((s) => { if (s && s.connector_name) connectorName = s.connector_name; })
    .catch(() => {})
    .then(load)
    .catch((error) => {
      // Never leave "Loading…" behind: say that the facts are missing, and why below.
      replace(current, h('p', {}, 'The certificate could not be read.'));
      status.error(error.message);
    });
  return { loaded, current: () => cert };
}

/** Wizard step 6. */
export function certificateStep(ctx, body, wiz) {
  const container = h('div', {});
  replace(body, h('p', {}, 'Callers that use HTTPS check this certificate: it must contain the connector name and chain to a CA they trust.'), container);
  const panel = certificatePanel(ctx, container, ctx.wizard.connectorName);
  wiz.allowSkip();
  return {
    async next() {
      const cert = panel.current();
      if (cert && cert.subject && cert.source !== 'csr_pending') return true;
      throw new Error('Install a certificate first, or skip this step for now.');
    },
  };
}
