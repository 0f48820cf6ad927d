// wizard-join.js: the wizard steps of issue 6's pairing: the choice between a new connector
// and joining an existing one, the pairing code (POST /api/v1/join, up to a minute), and the
// final step saying what the appliance received. The sign-in step is the new path's own.

import { facts, field, h, radios, replace, statusLine } from './dom.js';
import { normalizePairingCode } from './pairing.js';

const JOINED_KEY = 'rmsc.joined';

// What each refusal of POST /api/v1/join means, for answers that come without a message.
const JOIN_MESSAGES = {
  invalid_setting: 'Type the 16-character code shown on the first appliance, for example ABCD-EFGH-JKMN-PQRS.',
  no_answer: 'No appliance answered within a minute. Check the code, that it has not expired, and that the first appliance is running and connected to the cloud service.',
  not_authentic: 'The answer was not made with this code. Check the code, or make a new one on the first appliance.',
  other_connector: 'This appliance is registered under another connector name. Deregister it on the Maintenance page first.',
  already_member: 'This appliance already shares the configuration of a connector. Reset it to join another one.',
  not_signed_in: 'Sign in to the cloud service first (the previous step).',
};

/** The message to show for a refused join. */
export function joinMessage(error) {
  if (error && error.message && !/^The request failed/.test(error.message)) return error.message;
  return JOIN_MESSAGES[error && error.code] || 'Joining failed.';
}

/** Step 2: a new connector, or another appliance of an existing one. */
export function startStep(ctx, body, wiz) {
  const choice = radios('How do you want to set up this appliance?', 'setup-path', [
    ['new', 'Set up a new connector', 'The first appliance of a connector: you choose its name, register it and install its certificate and keytab.'],
    ['join', 'Join an existing connector', 'Another appliance already serves the connector. It shows a one-time code; this appliance receives the connector name, the HTTPS certificate and the Kerberos keytab from it.'],
  ], wiz.joining ? 'join' : 'new');
  const form = h('form', { class: 'narrow', novalidate: true }, choice.fieldset,
    h('button', { type: 'submit', hidden: true, tabindex: '-1' }, 'Next'));
  wiz.bindForm(form);
  replace(body, h('p', {}, 'For availability, a connector has two appliances or more behind a load balancer, all with the same configuration.'), form);
  return {
    async next() {
      return choice.value() === 'join' ? '#/setup/join/network' : '#/setup/network';
    },
  };
}

/** The pairing code step of the join path. */
export function joinStep(ctx, body, wiz) {
  const code = field('Pairing code', {
    name: 'pairing_code', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters',
    placeholder: 'ABCD-EFGH-JKMN-PQRS', class: 'pairing-input',
  }, 'On the appliance that already serves the connector: Dashboard, "Appliances of the tenant", "Add an appliance". Case, spaces and dashes do not matter.');
  // Errors belong next to the code they are about, not below the whole step.
  const problem = statusLine();
  const progress = h('progress', { class: 'join-progress', hidden: true, 'aria-label': 'Waiting for the first appliance' });
  const form = h('form', { class: 'narrow', novalidate: true }, code.row, progress, problem.el,
    h('button', { type: 'submit', hidden: true, tabindex: '-1' }, 'Join'));
  wiz.bindForm(form);
  replace(body, h('p', {}, 'Type the code the first appliance shows. This appliance then asks it, through the cloud service, for the connector name, the HTTPS certificate and the Kerberos keytab, encrypted for this appliance alone.'), form);
  let ticker = null;
  const stopTicker = () => { if (ticker) window.clearInterval(ticker); ticker = null; };
  wiz.onCleanup(stopTicker);

  const refuse = (message) => {
    code.input.setAttribute('aria-invalid', 'true');
    problem.error(message);
    code.input.focus();
    return false;
  };

  return {
    nextLabel: 'Join',
    async next() {
      code.input.removeAttribute('aria-invalid');
      problem.clear();
      const typed = normalizePairingCode(code.input.value);
      if (!typed) return refuse(JOIN_MESSAGES.invalid_setting);
      code.input.value = typed;
      code.input.readOnly = true;
      progress.hidden = false;
      const started = Date.now();
      const say = () => problem.info(`Waiting for the first appliance to answer… ${Math.round((Date.now() - started) / 1000)} s (this can take up to a minute).`);
      say();
      ticker = window.setInterval(say, 1000);
      try {
        const outcome = await ctx.api.post('/api/v1/join', { code: typed });
        ctx.wizard.joined = outcome;
        try { window.sessionStorage.setItem(JOINED_KEY, JSON.stringify(outcome)); } catch { /* memory only */ }
        problem.ok(`Joined ${outcome.connector_name}.`);
        ctx.announce(`Joined the connector ${outcome.connector_name}.`);
        return true;
      } catch (error) {
        const message = joinMessage(error);
        if (error.code === 'invalid_setting' || error.code === 'not_authentic') return refuse(message);
        problem.error(message);
        if (error.code === 'not_signed_in') {
          problem.el.append(' ', h('a', { href: '#/setup/join/signin' }, 'Go to the cloud sign-in'));
        }
        return false;
      } finally {
        stopTicker();
        progress.hidden = true;
        code.input.readOnly = false;
      }
    },
  };
}

function rememberedJoin(ctx) {
  if (ctx.wizard.joined) return ctx.wizard.joined;
  try { return JSON.parse(window.sessionStorage.getItem(JOINED_KEY) || 'null'); } catch { return null; }
}

const received = (yes, what) => (yes
  ? 'received from the first appliance'
  : `not received: the first appliance has no ${what} yet. Install it on either appliance under Settings; it reaches the others.`);

/** The last step of the join path: what this appliance received. */
export function joinedStep(ctx, body) {
  const joined = rememberedJoin(ctx);
  const details = h('div', { class: 'joined-details', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  replace(body, details);
  Promise.all([
    ctx.api.get('/api/v1/status').catch(() => null),
    ctx.api.get('/api/v1/certificate').catch(() => null),
    ctx.api.get('/api/v1/keytab').catch(() => null),
  ]).then(([status, cert, keytab]) => {
    const name = (joined && joined.connector_name) || (status && status.connector_name);
    if (!name) {
      replace(details, h('p', { class: 'error-text' }, 'This appliance has not joined a connector yet. Go back and type the pairing code.'));
      return;
    }
    const hasCert = joined ? joined.certificate_installed : Boolean(cert && cert.subject);
    const hasKeytab = joined ? joined.keytab_installed : Boolean(keytab && keytab.present);
    replace(details,
      h('p', { class: 'ok-text' }, `This appliance joined the connector ${name}.`),
      h('p', {}, hasCert && hasKeytab
        ? 'It received the HTTPS certificate and the Kerberos keytab from the first appliance, and it is registered under the same name. Changes made on any appliance now reach the others.'
        : 'It is registered under the same name and shares the configuration of the other appliances.'),
      facts([
        ['Connector name', name],
        ['HTTPS certificate', received(hasCert, 'certificate')],
        ['Certificate SHA-256 fingerprint', cert && cert.fingerprint_sha256 ? h('code', { class: 'wrap' }, cert.fingerprint_sha256) : null],
        ['Kerberos keytab', received(hasKeytab, 'keytab')],
        ['Keytab key version (kvno)', keytab && keytab.present ? String(keytab.kvno) : null],
      ]),
      h('p', { class: 'hint' }, 'The authorized-server list is the tenant\'s and is already the same on every appliance. Add this appliance to the load balancer.'));
  });
  return { nextLabel: 'Finish', noBack: true };
}
