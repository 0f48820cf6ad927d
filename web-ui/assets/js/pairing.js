// pairing.js: the serving appliance's side of pairing (issue 6): a one-time code that lets
// another appliance join this connector, the countdown until it expires, the appliances that
// joined with it, and the state of the configuration shared through the cloud. The pure
// helpers at the top are also used by the join step of the wizard (wizard-join.js).

import { busy, h, replace, statusLine } from './dom.js';

/** The characters of a pairing code (rmsc-pairing: Crockford's base 32, no I, L, O, U). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LEN = 16;
const POLL_EVERY_MS = 2000;

/**
 * Reads a pairing code as a person typed it: case, spaces and dashes do not matter, and the
 * letters O, I and L stand for the digits they look like (as the appliance reads them).
 * Returns the code as shown (`ABCD-EFGH-JKMN-PQRS`), or null when it cannot be one.
 */
export function normalizePairingCode(text) {
  const chars = [];
  for (const raw of String(text || '')) {
    if (raw === '-' || /\s/.test(raw)) continue;
    let c = raw.toUpperCase();
    if (c === 'O') c = '0';
    else if (c === 'I' || c === 'L') c = '1';
    if (!ALPHABET.includes(c) || chars.length === CODE_LEN) return null;
    chars.push(c);
  }
  if (chars.length !== CODE_LEN) return null;
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** "14 min 05 s left" for a number of seconds; "expired" at zero or below. */
export function timeLeftText(secs) {
  const s = Math.floor(Number(secs));
  if (!(s > 0)) return 'expired';
  const min = Math.floor(s / 60);
  const sec = String(s % 60).padStart(2, '0');
  return min > 0 ? `${min} min ${sec} s left` : `${s % 60} s left`;
}

/** One line about the shared configuration (`sharing` of GET /api/v1/pairing). */
export function sharingText(sharing) {
  if (!sharing || !sharing.member) {
    return 'Shared configuration: not shared yet (this appliance has not paired with another one).';
  }
  const pending = sharing.pending || [];
  const parts = [
    `Shared configuration: member, generation ${sharing.generation ?? 0}`,
    pending.length ? `waiting to publish: ${pending.join(', ')}` : 'nothing waiting to publish',
  ];
  if (sharing.last_applied) parts.push(`last applied: ${sharing.last_applied}`);
  parts.push(sharing.last_error ? `last error: ${sharing.last_error}` : 'no errors');
  return `${parts.join('; ')}.`;
}

/**
 * The "Add an appliance" part of the appliances card. `onJoined()` runs when an appliance
 * joined with the code shown (the dashboard reloads its appliance list). Returns
 * {el, refresh, stop}: `refresh` reloads the sharing line, `stop` ends every timer.
 */
export function pairingPanel(ctx, { onJoined = () => {} } = {}) {
  const status = statusLine();
  const sharing = h('p', { class: 'sharing-line' }, 'Shared configuration: checking…');
  const add = h('button', { type: 'button', class: 'primary' }, 'Add an appliance');
  const offer = h('div', { class: 'pairing-offer', hidden: true });
  let pollTimer = null;
  let tickTimer = null;
  let joinedBefore = 0;
  let stopped = false;

  const showSharing = (s) => {
    sharing.textContent = sharingText(s);
    sharing.className = s && s.last_error ? 'sharing-line error-text' : 'sharing-line';
  };

  // Seconds left by the appliance's clock: expires_at is its time, not this computer's.
  const secondsLeft = (expiresAt) => expiresAt - (Date.now() / 1000 + (ctx.api.clockSkewSecs() || 0));

  function stopTimers() {
    if (pollTimer) window.clearTimeout(pollTimer);
    if (tickTimer) window.clearInterval(tickTimer);
    pollTimer = null;
    tickTimer = null;
  }

  function hideOffer() {
    stopTimers();
    offer.hidden = true;
    replace(offer);
    add.hidden = false;
  }

  function showOffer(code, expiresAt, connectorName) {
    const codeEl = h('code', { class: 'pairing-code' }, code);
    const left = h('span', { class: 'pairing-left' }, timeLeftText(secondsLeft(expiresAt)));
    const copy = h('button', { type: 'button', class: 'small' }, 'Copy code');
    copy.addEventListener('click', () => {
      const fallback = () => status.info('Select the code and copy it with the keyboard.');
      if (!navigator.clipboard) { fallback(); return; }
      navigator.clipboard.writeText(code).then(() => status.info('Code copied.'), fallback);
    });
    const withdraw = h('button', { type: 'button', class: 'danger' }, 'Withdraw code');
    withdraw.addEventListener('click', () => busy(withdraw, status, async () => {
      await ctx.api.del('/api/v1/pairing');
      hideOffer();
      status.info('The code was withdrawn; it no longer works.');
    }));
    replace(offer,
      h('p', {}, 'On the new appliance, choose ', h('strong', {}, 'Join an existing connector'),
        ', sign in to the cloud service and type this code:'),
      h('p', { class: 'pairing-code-row' }, h('span', { class: 'visually-hidden' }, 'Pairing code: '), codeEl, ' ', copy),
      h('dl', { class: 'facts small' },
        h('dt', {}, 'Connector'), h('dd', {}, connectorName || '-'),
        h('dt', {}, 'Valid for'), h('dd', { 'aria-live': 'off' }, left)),
      h('p', { class: 'hint' }, 'The code works once. The new appliance receives the connector name, the HTTPS certificate and the Kerberos keytab, encrypted for it alone.'),
      h('div', { class: 'actions' }, withdraw));
    offer.hidden = false;
    add.hidden = true;
    stopTimers();
    tickTimer = window.setInterval(() => { left.textContent = timeLeftText(secondsLeft(expiresAt)); }, 1000);
    schedulePoll();
  }

  function schedulePoll() {
    if (stopped) return;
    pollTimer = window.setTimeout(async () => {
      try {
        await check();
      } catch (error) {
        status.error(error.message);
      }
      if (!offer.hidden) schedulePoll();
    }, POLL_EVERY_MS);
  }

  // Reads the pairing state; closes the code panel once the code is used or gone.
  async function check() {
    const state = await ctx.api.get('/api/v1/pairing');
    if (stopped || !state) return state;
    showSharing(state.sharing);
    const joined = state.joined || [];
    if (!offer.hidden && !state.active) {
      hideOffer();
      if (joined.length > joinedBefore) {
        const last = joined[joined.length - 1];
        status.ok(`An appliance joined this connector${last && (last.appliance_name || last.requested_by) ? ` (${last.appliance_name || last.requested_by})` : ''}.`);
        ctx.announce('An appliance joined.');
        onJoined();
      } else {
        status.info('The code expired or was withdrawn. Add an appliance again for a new code.');
      }
    }
    joinedBefore = joined.length;
    return state;
  }

  add.addEventListener('click', () => busy(add, status, async () => {
    status.clear();
    // Count the appliances joined so far, so that only a join with this code is reported.
    const before = await ctx.api.get('/api/v1/pairing').catch(() => null);
    if (before) joinedBefore = (before.joined || []).length;
    const answer = await ctx.api.post('/api/v1/pairing');
    showOffer(answer.code, answer.expires_at, answer.connector_name);
    ctx.announce(`Pairing code ${answer.code}.`);
    // The first code makes this appliance a member of the shared configuration: show it now.
    await check().catch(() => {});
  }));

  const el = h('div', { class: 'pairing' }, h('h3', {}, 'Add an appliance'),
    h('p', {}, 'Another appliance joins this connector with a one-time code; nobody copies keys by hand.'),
    add, offer, status.el, sharing);

  // A code made before the page was (re)loaded is still shown.
  ctx.api.get('/api/v1/status').then((s) => ctx.api.get('/api/v1/pairing').then((state) => {
    if (stopped || !state) return;
    joinedBefore = (state.joined || []).length;
    showSharing(state.sharing);
    if (state.active && state.code) showOffer(state.code, state.expires_at, s && s.connector_name);
  })).catch((error) => { sharing.textContent = `Shared configuration: ${error.message}`; });

  return {
    el,
    refresh() { if (offer.hidden) check().catch(() => {}); },
    stop() { stopped = true; stopTimers(); },
  };
}
