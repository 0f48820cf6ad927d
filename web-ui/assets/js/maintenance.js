// maintenance.js: reboot, shut down, configuration backup and restore (with a passphrase),
// deregistration and factory reset (typed confirmation).

import { busy, confirmDialog, field, h, pageHeading, readBytes, replace, section, statusLine, toBase64 } from './dom.js';

const RESET_WORDS = 'FACTORY RESET';

function powerSection(ctx) {
  const status = statusLine();
  const reboot = h('button', { type: 'button' }, 'Reboot');
  const shutdown = h('button', { type: 'button', class: 'danger' }, 'Shut down');
  const act = (button, path, title, text, done) => async () => {
    if (!(await confirmDialog(title, text, button.textContent))) { button.focus(); return; }
    await busy(button, status, async () => {
      await ctx.api.post(path);
      status.ok(done);
    });
  };
  reboot.addEventListener('click', act(reboot, '/api/v1/maintenance/reboot', 'Reboot the appliance?',
    'Callers that use only this appliance fail until it is back, usually within a minute.', 'The appliance is rebooting. Reload this page in a minute.'));
  shutdown.addEventListener('click', act(shutdown, '/api/v1/maintenance/shutdown', 'Shut down the appliance?',
    'It stays off until someone starts it from the hypervisor or the power button.', 'The appliance is shutting down.'));
  return section('Power', h('div', { class: 'actions' }, reboot, shutdown), status.el);
}

function backupSection(ctx) {
  const status = statusLine();
  const passphrase = field('Passphrase', { type: 'password', name: 'backup_passphrase', autocomplete: 'new-password' },
    'At least 12 characters. The backup holds the appliance keys; without the passphrase it cannot be restored.');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Download backup');
  const form = h('form', { class: 'narrow', novalidate: true }, passphrase.row, h('div', { class: 'actions' }, save), status.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (passphrase.input.value.length < 12) { status.error('Choose a passphrase of at least 12 characters.'); passphrase.input.focus(); return; }
    busy(save, status, async () => {
      const name = await ctx.api.download('POST', '/api/v1/backup', { passphrase: passphrase.input.value }, 'rmsc-backup.bin');
      passphrase.input.value = '';
      status.ok(`Backup saved as ${name}.`);
    });
  });
  return section('Configuration backup', form);
}

function restoreSection(ctx) {
  const status = statusLine();
  const file = field('Backup file', { type: 'file', name: 'backup_file' });
  const passphrase = field('Passphrase', { type: 'password', name: 'restore_passphrase', autocomplete: 'off' });
  const restore = h('button', { type: 'submit', class: 'danger' }, 'Restore');
  const form = h('form', { class: 'narrow', novalidate: true }, file.row, passphrase.row, h('div', { class: 'actions' }, restore), status.el);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.input.files[0];
    if (!chosen) { status.error('Choose a backup file.'); file.input.focus(); return; }
    if (!passphrase.input.value) { status.error('Enter the passphrase of the backup.'); passphrase.input.focus(); return; }
    if (!(await confirmDialog('Restore this backup?', 'The current configuration is replaced by the one in the backup.', 'Restore'))) return;
    busy(restore, status, async () => {
      const bytes = await readBytes(chosen);
      await ctx.api.post('/api/v1/restore', { passphrase: passphrase.input.value, backup_base64: toBase64(bytes) });
      passphrase.input.value = '';
      status.ok('Configuration restored.');
    });
  });
  return section('Restore a backup', form);
}

function deregisterSection(ctx) {
  const status = statusLine();
  const button = h('button', { type: 'button', class: 'danger' }, 'Deregister');
  button.addEventListener('click', async () => {
    const sure = await confirmDialog('Deregister this appliance?',
      'The cloud service forgets this connector; callers using it fail. The authorized-server list of the tenant is kept.', 'Deregister');
    if (!sure) { button.focus(); return; }
    busy(button, status, async () => {
      await ctx.api.del('/api/v1/registration');
      status.ok('Deregistered. Run the setup again to register.');
    });
  });
  return section('Registration', h('p', {}, 'Removes this appliance from the tenant, for example before changing the connector name.'), button, status.el);
}

function resetSection(ctx) {
  const status = statusLine();
  const confirm = field(`Type ${RESET_WORDS} to confirm`, { name: 'reset_confirm', autocomplete: 'off', spellcheck: 'false' },
    'Deregisters the appliance from the cloud and erases its data: settings, keys, certificate, keytab and events. It then restarts like a new appliance.');
  const reset = h('button', { type: 'submit', class: 'danger', disabled: true }, 'Factory reset');
  confirm.input.addEventListener('input', () => { reset.disabled = confirm.input.value !== RESET_WORDS; });
  const form = h('form', { class: 'narrow', novalidate: true }, confirm.row, h('div', { class: 'actions' }, reset), status.el);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (confirm.input.value !== RESET_WORDS) { status.error(`Type ${RESET_WORDS} exactly.`); return; }
    busy(reset, status, async () => {
      await ctx.api.post('/api/v1/maintenance/factory-reset', { confirm: confirm.input.value });
      confirm.input.value = '';
      reset.disabled = true;
      status.ok('Factory reset started. The appliance restarts with a new setup code on its console.');
    }).then(() => { reset.disabled = confirm.input.value !== RESET_WORDS; });
  });
  return section('Factory reset', form);
}

/** The #/maintenance page. */
export function render(ctx, main) {
  replace(main, h('div', { class: 'page' },
    pageHeading('Maintenance'),
    powerSection(ctx), backupSection(ctx), restoreSection(ctx), deregisterSection(ctx), resetSection(ctx)));
}
