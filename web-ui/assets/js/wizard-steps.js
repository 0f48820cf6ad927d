// wizard-steps.js: the small wizard steps: administrator password (with the setup code),
// connector name, and registration with the cloud service.

import { facts, field, h, replace, when } from './dom.js';

const NAME_KEY = 'rmsc.connectorName';
const MIN_PASSWORD = 12;

/** Step 1: the setup code from the console, then the administrator's own password. */
export function adminStep(ctx, body, wiz) {
  const code = field('Setup code', { name: 'setup_code', autocomplete: 'off', required: true, spellcheck: 'false' },
    'Shown on the appliance console and in its log at first start. It works once.');
  const user = field('Administrator user name', { name: 'username', autocomplete: 'username', value: 'admin', required: true });
  const pass = field('New password', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD },
    `At least ${MIN_PASSWORD} characters. Any characters are allowed.`);
  const again = field('Repeat the password', { name: 'confirm_password', type: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'narrow', novalidate: true }, code.row, user.row, pass.row, again.row,
    h('button', { type: 'submit', hidden: true, tabindex: '-1' }, 'Set password'));
  wiz.bindForm(form);
  replace(body, h('p', {}, 'No default password exists on this appliance. Prove that you can see its console, then choose the administrator password.'), form);

  const invalid = (input, message) => {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    throw new Error(message);
  };
  return {
    nextLabel: 'Set password',
    async next() {
      for (const f of [code, user, pass, again]) f.input.removeAttribute('aria-invalid');
      if (!code.input.value.trim()) invalid(code.input, 'Enter the setup code shown on the console.');
      if (!user.input.value.trim()) invalid(user.input, 'Enter a user name.');
      if (pass.input.value.length < MIN_PASSWORD) invalid(pass.input, `The password needs at least ${MIN_PASSWORD} characters.`);
      if (pass.input.value !== again.input.value) invalid(again.input, 'The two passwords differ.');
      try {
        const answer = await ctx.api.post('/api/v1/setup', {
          setup_code: code.input.value.trim(),
          username: user.input.value.trim(),
          password: pass.input.value,
        });
        ctx.setSession('signed_in', answer.user || user.input.value.trim(), answer.csrf_token);
      } catch (error) {
        if (error.code === 'wrong_setup_code') code.input.setAttribute('aria-invalid', 'true');
        if (error.code === 'weak_password') pass.input.setAttribute('aria-invalid', 'true');
        if (error.code === 'already_set_up') {
          ctx.setSession('signed_out');
          ctx.navigate('#/dashboard');
        }
        throw error;
      }
      ctx.announce('Administrator password set.');
      return true;
    },
  };
}

/** Whether `name` is a plausible fully qualified DNS name (two labels at least). */
export function isDnsName(name) {
  if (!name || name.length > 253) return false;
  const labels = name.split('.');
  return labels.length >= 2
    && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l))
    && !/^[0-9]+$/.test(labels[labels.length - 1]);
}

function rememberedName(ctx) {
  if (ctx.wizard.connectorName) return ctx.wizard.connectorName;
  try { return window.sessionStorage.getItem(NAME_KEY) || ''; } catch { return ''; }
}

/** Step 3: the connector name, the DNS name behind the load balancer. */
export function nameStep(ctx, body, wiz) {
  const name = field('Connector name', { name: 'connector_name', autocomplete: 'off', spellcheck: 'false', placeholder: 'rmsconnector.contoso.com', value: rememberedName(ctx) },
    'The fully qualified DNS name that resolves to your load balancer (an A record, not a CNAME).');
  const warning = h('div', { class: 'callout warning', role: 'note' },
    h('strong', {}, 'This name must never change. '),
    'Exchange, SharePoint and file servers are configured with it. Changing it later means removing and redoing the rights-management configuration of every one of those servers. '
    + 'Use the same name on every connector appliance of the tenant; the HTTPS certificate and the Kerberos service principal HTTP/<name> are issued for it.');
  const form = h('form', { class: 'narrow', novalidate: true }, name.row,
    h('button', { type: 'submit', hidden: true, tabindex: '-1' }, 'Next'));
  wiz.bindForm(form);
  replace(body, warning, form);

  let registeredAs = null;
  ctx.api.get('/api/v1/status').then((status) => {
    if (status && status.registered) {
      registeredAs = status.connector_name;
      name.input.value = status.connector_name || '';
      name.input.readOnly = true;
      form.append(h('p', { class: 'hint' }, 'This appliance is registered under this name. To change it, deregister the appliance on the Maintenance page.'));
    }
  }).catch(() => {});

  return {
    async next() {
      if (registeredAs) return true;
      const value = name.input.value.trim().toLowerCase().replace(/\.$/, '');
      if (!isDnsName(value)) {
        name.input.setAttribute('aria-invalid', 'true');
        name.input.focus();
        throw new Error('Enter a fully qualified DNS name such as rmsconnector.contoso.com.');
      }
      name.input.removeAttribute('aria-invalid');
      ctx.wizard.connectorName = value;
      try { window.sessionStorage.setItem(NAME_KEY, value); } catch { /* private mode: memory only */ }
      return true;
    },
  };
}

function registrationFacts(status) {
  return facts([
    ['Connector name', status.connector_name],
    ['Connector id', status.connector_id],
    ['Tenant', status.tenant_id],
    ['Tenant RMS URL', status.rms_url],
    ['Connector certificate expires', when(status.certificate_not_after)],
  ]);
}

/** Step 5: registers the appliance as a connector of the signed-in tenant. */
export function registerStep(ctx, body, wiz) {
  const summary = h('div', { class: 'summary' }, h('p', {}, 'Checking the registration…'));
  replace(body, summary);
  let registered = false;

  ctx.api.get('/api/v1/status').then((status) => {
    registered = Boolean(status.registered);
    if (registered) {
      wiz.setNextLabel('Next');
      replace(summary, h('p', { class: 'ok-text' }, 'This appliance is registered.'), registrationFacts(status));
      return;
    }
    const name = rememberedName(ctx);
    replace(summary,
      h('p', {}, 'The appliance creates its key here and sends the cloud service only a signing request; the key never leaves the appliance.'),
      facts([
        ['Connector name', name || 'not chosen yet: go back to "Connector name"'],
        ['Signed in to the cloud as', status.signed_in_as || 'not signed in: go back to "Cloud sign-in"'],
      ]),
      h('p', { class: 'hint' }, 'Register at least two appliances under the same connector name for availability.'));
  }).catch((error) => wiz.status.error(error.message));

  return {
    nextLabel: 'Register',
    async next() {
      if (registered) return true;
      const name = rememberedName(ctx);
      if (!name) throw new Error('Choose the connector name first (step 3).');
      wiz.status.info('Registering with the cloud service…');
      const status = await ctx.api.post('/api/v1/registration', { connector_name: name });
      registered = true;
      replace(summary, h('p', { class: 'ok-text' }, 'Registered.'), registrationFacts(status));
      ctx.announce(`Registered as ${status.connector_name || name}.`);
      wiz.status.ok('Registered with the cloud service.');
      return true;
    },
  };
}
