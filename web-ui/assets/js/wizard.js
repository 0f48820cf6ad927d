// wizard.js: the first-run wizard frame. Each step lives at `#/setup/<step>`, so a step can
// be reloaded or revisited; moving between steps puts keyboard focus on the step heading.
// After the password, the administrator chooses a path: a new connector (name, sign-in,
// registration, certificate, keytab, servers) or joining an existing one with a pairing code
// (sign-in, code, done), whose steps live at `#/setup/join/<step>`.

import { h, pageHeading, replace, statusLine } from './dom.js';
import { adminStep, nameStep, registerStep } from './wizard-steps.js';
import { joinedStep, joinStep, startStep } from './wizard-join.js';
import { networkStep } from './network.js';
import { cloudSignInStep } from './cloud-signin.js';
import { certificateStep } from './certificate.js';
import { keytabStep } from './keytab.js';
import { authorizedStep } from './authorized.js';

const COMMON = [
  { id: 'admin', title: 'Administrator password', render: adminStep },
  { id: 'start', title: 'New or existing connector', render: startStep },
  { id: 'network', title: 'Network', render: networkStep },
];
const NEW_STEPS = [
  ...COMMON,
  { id: 'name', title: 'Connector name', render: nameStep },
  { id: 'signin', title: 'Cloud sign-in', render: cloudSignInStep },
  { id: 'register', title: 'Registration', render: registerStep },
  { id: 'certificate', title: 'HTTPS certificate', render: certificateStep },
  { id: 'keytab', title: 'Kerberos keytab', render: keytabStep },
  { id: 'servers', title: 'Authorized servers', render: authorizedStep },
];
const JOIN_STEPS = [
  ...COMMON,
  { id: 'signin', title: 'Cloud sign-in', render: cloudSignInStep },
  { id: 'code', title: 'Pairing code', render: joinStep },
  { id: 'joined', title: 'Joined', render: joinedStep },
];

/** Renders the wizard at the step named in `params[0]`. */
export function render(ctx, main, params) {
  const joining = params[0] === 'join';
  const STEPS = joining ? JOIN_STEPS : NEW_STEPS;
  const base = joining ? '#/setup/join/' : '#/setup/';
  const wanted = joining ? params[1] : params[0];
  const setupRequired = ctx.session.state === 'setup_required';
  let index = STEPS.findIndex((s) => s.id === wanted);
  if (setupRequired) index = 0;
  else if (index <= 0) index = 1; // the password is set: never show that step again
  if (wanted !== STEPS[index].id) {
    window.history.replaceState(null, '', `${base}${STEPS[index].id}`);
  }
  const step = STEPS[index];
  const cleanups = [];

  const progress = h('ol', { class: 'steps' });
  STEPS.forEach((s, i) => {
    const label = `${i + 1}. ${s.title}`;
    let item;
    // Steps can be revisited once the password exists; before that there is nothing to see.
    if (i === index) item = h('span', { 'aria-current': 'step' }, label);
    else if (!setupRequired && i > 0) item = h('a', { href: `${base}${s.id}` }, label);
    else item = h('span', {}, label);
    progress.append(h('li', { class: i < index ? 'done' : (i === index ? 'current' : '') }, item));
  });

  const body = h('div', { class: 'step-body' });
  const status = statusLine();
  const back = h('button', { type: 'button' }, 'Back');
  const next = h('button', { type: 'button', class: 'primary' }, 'Next');
  const skip = h('button', { type: 'button', class: 'link', hidden: true }, 'Skip this step for now');
  back.hidden = index <= 1;

  const wiz = {
    status,
    joining,
    onCleanup(fn) { cleanups.push(fn); },
    setNextLabel(text) { next.textContent = text; },
    allowSkip() { skip.hidden = false; },
    goNext() { goTo(index + 1); },
    /** Makes Enter in a form of the step act like the Next button. */
    bindForm(form) {
      form.addEventListener('submit', (event) => { event.preventDefault(); next.click(); });
    },
  };

  function goTo(i) {
    if (i >= STEPS.length) {
      ctx.announce('Setup finished.');
      ctx.navigate('#/dashboard');
      return;
    }
    ctx.navigate(`${base}${STEPS[Math.max(i, 0)].id}`);
  }

  const handlers = step.render(ctx, body, wiz) || {};
  if (index === STEPS.length - 1 && !handlers.nextLabel) next.textContent = 'Finish';
  if (handlers.nextLabel) next.textContent = handlers.nextLabel;
  if (handlers.noBack) back.hidden = true;

  next.addEventListener('click', async () => {
    status.clear();
    next.disabled = true;
    next.setAttribute('aria-busy', 'true');
    let ok = false;
    try {
      ok = handlers.next ? await handlers.next() : true;
    } catch (error) {
      status.error(error.message || String(error));
    } finally {
      next.disabled = false;
      next.removeAttribute('aria-busy');
    }
    // A step may name the address to go to (the path choice does).
    if (typeof ok === 'string') ctx.navigate(ok);
    else if (ok) goTo(index + 1);
  });
  back.addEventListener('click', () => goTo(index - 1));
  skip.addEventListener('click', () => goTo(index + 1));

  replace(main, h('div', { class: 'page wizard' },
    h('p', { class: 'eyebrow' }, `Setup, step ${index + 1} of ${STEPS.length}`),
    pageHeading(step.title),
    h('nav', { 'aria-label': 'Setup steps', class: 'steps-nav' }, progress),
    body,
    status.el,
    h('div', { class: 'actions wizard-actions' }, back, next, skip)));

  return () => cleanups.forEach((fn) => fn());
}
