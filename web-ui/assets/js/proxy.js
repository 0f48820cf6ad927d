// proxy.js: the outbound web proxy (URL with optional credentials) and its test button.

import { busy, field, h, replace, statusLine } from './dom.js';

/** Whether `text` is empty (no proxy) or an http(s) URL with a host. */
export function isProxyUrl(text) {
  if (!text) return true;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && Boolean(url.hostname) && !url.username;
  } catch {
    return false;
  }
}

/** Renders the proxy form into `container`. */
export function proxyForm(ctx, container) {
  const status = statusLine();
  const url = field('Proxy URL', { name: 'proxy_url', type: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'http://proxy.contoso.com:8080' },
    'Leave empty to connect directly. A proxy that inspects TLS breaks the connection to the cloud service: exempt the cloud service from inspection.');
  const user = field('User name (optional)', { name: 'proxy_username', autocomplete: 'off' });
  const pass = field('Password (optional)', { name: 'proxy_password', type: 'password', autocomplete: 'new-password' },
    'Leave empty to keep the saved password.');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save proxy');
  const test = h('button', { type: 'button' }, 'Test connection');
  const form = h('form', { class: 'narrow', novalidate: true }, url.row, user.row, pass.row,
    h('div', { class: 'actions' }, save, test), status.el);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = url.input.value.trim();
    if (!isProxyUrl(value)) {
      url.input.setAttribute('aria-invalid', 'true');
      url.input.focus();
      status.error('Enter the proxy as http://host:port (credentials go in the fields below).');
      return;
    }
    url.input.removeAttribute('aria-invalid');
    busy(save, status, async () => {
      const body = { url: value, username: user.input.value.trim() };
      if (pass.input.value) body.password = pass.input.value;
      await ctx.api.put('/api/v1/settings/proxy', body);
      pass.input.value = '';
      status.ok(value ? 'Proxy saved.' : 'Proxy removed: the appliance connects directly.');
    });
  });
  test.addEventListener('click', () => busy(test, status, async () => {
    status.info('Testing the connection to the cloud service…');
    const result = await ctx.api.post('/api/v1/settings/proxy/test');
    if (result && result.ok) status.ok(`The cloud service answered in ${result.latency_ms} ms.${result.message ? ` ${result.message}` : ''}`);
    else status.error((result && result.message) || 'The cloud service could not be reached.');
  }));

  replace(container, form);
  ctx.api.get('/api/v1/settings/proxy').then((p) => {
    url.input.value = (p && p.url) || '';
    user.input.value = (p && p.username) || '';
  }).catch((error) => status.error(error.message));
}
