// app.js: starts the admin UI. Asks the appliance for the session state, then routes
// `#/page` hashes to page modules; shows the sign-in form whenever the session is gone.

import { createApi } from './api.js';
import { replace } from './dom.js';
import { renderSignIn } from './signin.js';

// Each page module exports render(ctx, main, params) and may return a cleanup function.
const PAGES = {
  setup: { title: 'First-run setup', load: () => import('./wizard.js') },
  dashboard: { title: 'Dashboard', load: () => import('./dashboard.js') },
  authorized: { title: 'Authorized servers', load: () => import('./authorized.js') },
  events: { title: 'Events', load: () => import('./events.js') },
  servers: { title: 'Server configuration', load: () => import('./servers.js') },
  settings: { title: 'Settings', load: () => import('./settings.js') },
  maintenance: { title: 'Maintenance', load: () => import('./maintenance.js') },
};

function start() {
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const announcer = document.getElementById('announcer');
  let cleanup = null;
  let renderToken = 0;

  const ctx = {
    session: { state: 'unknown', user: null },
    wizard: { connectorName: '' },
    announce(text) {
      // Clearing first makes screen readers repeat a message that did not change.
      announcer.textContent = '';
      window.setTimeout(() => { announcer.textContent = text; }, 50);
    },
    navigate(hash) {
      if (window.location.hash === hash) route();
      else window.location.hash = hash;
    },
    setSession(state, user, csrf) {
      ctx.session = { state, user: user || null };
      if (csrf !== undefined) ctx.api.setCsrf(csrf);
      const inside = state === 'signed_in';
      nav.hidden = !inside;
      who.hidden = !inside;
      document.getElementById('who-name').textContent = inside && user ? `Signed in as ${user}` : '';
    },
    api: null,
  };
  ctx.api = createApi({
    onSessionExpired() {
      // Several requests can fail at once; show the form only for the first of them.
      if (ctx.session.state !== 'signed_in') return;
      ctx.setSession('signed_out');
      showSignIn('Your session has expired. Sign in again to continue.');
    },
  });

  function stopPage() {
    if (typeof cleanup === 'function') {
      try { cleanup(); } catch { /* a page failing to clean up must not block the next */ }
    }
    cleanup = null;
  }

  function showSignIn(notice) {
    stopPage();
    renderToken += 1;
    document.title = 'Sign in - RMS Connector';
    renderSignIn(ctx, main, notice, () => route());
    focusHeading();
  }

  function focusHeading() {
    const heading = main.querySelector('.page-heading');
    if (heading) heading.focus();
  }

  function markCurrent(name) {
    for (const link of nav.querySelectorAll('a')) {
      if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  async function defaultRoute() {
    try {
      const status = await ctx.api.get('/api/v1/status');
      return status && status.registered ? '#/dashboard' : '#/setup';
    } catch {
      return '#/dashboard';
    }
  }

  async function route() {
    const hash = window.location.hash;
    if (hash && !hash.startsWith('#/')) return;
    const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
    const state = ctx.session.state;
    if (state === 'signed_out' || state === 'unknown') { showSignIn(); return; }
    if (state === 'setup_required' && parts[0] !== 'setup') { ctx.navigate('#/setup'); return; }
    if (!parts[0] || !PAGES[parts[0]]) {
      const target = await defaultRoute();
      // The answer can come after the administrator has already picked a page (a nav link
      // straight after sign-in): their choice wins over the default.
      if (window.location.hash === hash) ctx.navigate(target);
      return;
    }
    const name = parts[0];
    const page = PAGES[name];
    stopPage();
    renderToken += 1;
    const token = renderToken;
    markCurrent(name);
    document.title = `${page.title} - RMS Connector`;
    let module;
    try {
      module = await page.load();
    } catch {
      replace(main, 'This page could not be loaded. Reload the browser window.');
      return;
    }
    if (token !== renderToken) return;
    main.replaceChildren();
    const result = module.render(ctx, main, parts.slice(1));
    cleanup = result && typeof result.then === 'function' ? null : result;
    if (result && typeof result.then === 'function') {
      result.then((fn) => { if (token === renderToken) cleanup = fn; else if (typeof fn === 'function') fn(); });
    }
    focusHeading();
    ctx.announce(`${page.title} page`);
  }

  async function boot() {
    let session;
    try {
      session = await ctx.api.get('/api/v1/session');
    } catch (error) {
      replace(main, error.message || 'The appliance could not be reached.');
      return;
    }
    const state = session.state === 'signed_in' && !session.csrf_token ? 'signed_out' : session.state;
    ctx.setSession(state, session.user, session.csrf_token);
    route();
  }

  document.getElementById('sign-out').addEventListener('click', async () => {
    try { await ctx.api.del('/api/v1/session'); } catch { /* signed out either way */ }
    ctx.setSession('signed_out', null, null);
    showSignIn('You have signed out.');
  });
  document.getElementById('skip-link').addEventListener('click', (event) => {
    // The hash is the router's: move focus without touching it.
    event.preventDefault();
    const heading = main.querySelector('.page-heading');
    (heading || main).focus();
  });
  window.addEventListener('hashchange', () => route());
  boot();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
