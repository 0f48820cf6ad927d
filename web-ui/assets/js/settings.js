// settings.js: appliance settings: network, outbound proxy, HTTPS certificate, Kerberos
// keytab, cloud sign-in and the administrator's own password.

import { busy, field, h, pageHeading, replace, section, statusLine } from './dom.js';
import { networkForm } from './network.js';
import { proxyForm } from './proxy.js';
import { certificatePanel } from './certificate.js';
import { keytabPanel } from './keytab.js';

function networkSection(ctx) {
  const status = statusLine();
  const container = h('div', {});
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save network settings');
  const form = h('form', { class: 'narrow', novalidate: true }, container, h('div', { class: 'actions' }, save), status.el);
  const net = networkForm(ctx, container);
  net.loaded.catch((error) => status.error(error.message));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(save, status, async () => {
      await net.save();
      status.ok('Network settings saved. If the address changed, browse to the new one.');
    });
  });
  return section('Network', form);
}

function passwordSection(ctx) {
  const status = statusLine();
  const current = field('Current password', { type: 'password', name: 'current', autocomplete: 'current-password' });
  const next = field('New password', { type: 'password', name: 'new', autocomplete: 'new-password', minlength: '12' }, 'At least 12 characters.');
  const again = field('Repeat the new password', { type: 'password', name: 'again', autocomplete: 'new-password' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', { class: 'narrow', novalidate: true }, current.row, next.row, again.row, h('div', { class: 'actions' }, save), status.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (next.input.value.length < 12) { status.error('The new password needs at least 12 characters.'); next.input.focus(); return; }
    if (next.input.value !== again.input.value) { status.error('The two new passwords differ.'); again.input.focus(); return; }
    busy(save, status, async () => {
      await ctx.api.post('/api/v1/session/password', { current: current.input.value, new: next.input.value });
      [current, next, again].forEach((f) => { f.input.value = ''; });
      status.ok('Password changed.');
    });
  });
  return section('Administrator password', form);
}

/** The #/settings page. */
export function render(ctx, main) {
  const proxy = h('div', {});
  const cert = h('div', {});
  const keytab = h('div', {});
  replace(main, h('div', { class: 'page' },
    pageHeading('Settings'),
    networkSection(ctx),
    section('Outbound proxy', proxy),
    section('HTTPS certificate', cert),
    section('Kerberos keytab', keytab),
    section('Cloud sign-in',
      h('p', {}, 'Sign in again to register, or when the appliance reports that the sign-in expired.'),
      h('a', { href: '#/setup/signin', class: 'button' }, 'Sign in to the cloud service')),
    passwordSection(ctx)));
  proxyForm(ctx, proxy);
  certificatePanel(ctx, cert);
  keytabPanel(ctx, keytab);
}
