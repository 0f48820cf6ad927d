// cloud-signin.js: signs the appliance in to the cloud service, with a device code (works with
// multi-factor sign-in) or with a user name and password (any characters).

import { busy, field, h, replace, statusLine } from './dom.js';

// What each failure the contract defines means, for answers that come without a message.
const MESSAGES = {
  invalid_credentials: 'That user name and password combination is not correct.',
  mfa_required: 'This account requires multi-factor sign-in. Use "Sign in with a device code" instead of a password.',
  missing_role: 'This account is not a global administrator, a Rights Management global administrator or a connector administrator of the tenant.',
  onboarding_blocked: 'Onboarding controls are enabled for the tenant and this account is not allowed to protect content.',
  protection_not_activated: 'The protection service is not activated for this tenant. Activate it, then sign in again.',
  account_not_synchronized: 'This account exists only in the cloud. Use an account synchronized from on-premises Active Directory.',
  expired_token: 'The sign-in code expired before sign-in was completed. Get a new code.',
  access_denied: 'The sign-in was declined in the browser.',
  cloud_unreachable: 'The cloud service could not be reached. Check the network, DNS and proxy settings.',
};

/** The message to show for a failed sign-in. */
export function signInMessage(error) {
  if (error && error.message && !/^The request failed/.test(error.message)) return error.message;
  return MESSAGES[error && error.code] || 'The sign-in failed.';
}

/**
 * Renders both sign-in methods into `container`; `onSignedIn(account)` runs after success.
 * Returns a function that stops polling.
 */
export function cloudSignIn(ctx, container, onSignedIn) {
  const status = statusLine();
  let timer = null;
  let stopped = false;
  const stop = () => { stopped = true; if (timer) window.clearTimeout(timer); timer = null; };

  // Device code.
  const codeButton = h('button', { type: 'button', class: 'primary' }, 'Sign in with a device code');
  const devicePanel = h('div', { class: 'device-panel', 'aria-live': 'polite' });
  codeButton.addEventListener('click', () => busy(codeButton, status, async () => {
    stop();
    stopped = false;
    status.info('Asking the cloud service for a code…');
    const grant = await ctx.api.post('/api/v1/signin/device');
    const expires = new Date(Date.now() + (grant.expires_in || 900) * 1000);
    // Only a web address becomes a link; anything else from the cloud is shown as text.
    const web = /^https?:\/\//i.test(grant.verification_uri || '');
    const link = web
      ? h('a', { href: grant.verification_uri, target: '_blank', rel: 'noopener noreferrer', class: 'verification-link' }, grant.verification_uri)
      : h('code', {}, String(grant.verification_uri || ''));
    const code = h('strong', { class: 'user-code' }, grant.user_code);
    const copy = h('button', { type: 'button', class: 'small' }, 'Copy code');
    copy.addEventListener('click', () => {
      navigator.clipboard.writeText(grant.user_code).then(() => status.info('Code copied.'), () => {});
    });
    replace(devicePanel,
      h('ol', { class: 'device-steps' },
        h('li', {}, 'Open ', link, ' in a browser on any computer or phone.'),
        h('li', {}, 'Enter the code ', code, ' ', copy),
        h('li', {}, 'Sign in with an administrator account of the tenant, with its second factor if it has one.')),
      h('p', { class: 'hint' }, `The code is valid until ${expires.toLocaleTimeString()}.`));
    status.info('Waiting for you to finish signing in in the other browser window…');
    poll(grant.device_code, Math.max(1, grant.interval || 5));
  }));

  function poll(deviceCode, interval) {
    timer = window.setTimeout(async () => {
      if (stopped) return;
      try {
        const answer = await ctx.api.post('/api/v1/signin/device/poll', { device_code: deviceCode });
        if (stopped) return;
        if (answer && answer.state === 'signed_in') {
          replace(devicePanel);
          done(answer.account);
          return;
        }
        poll(deviceCode, interval);
      } catch (error) {
        if (stopped) return;
        if (error.code === 'slow_down' || error.code === 'authorization_pending') {
          poll(deviceCode, interval + 1);
          return;
        }
        replace(devicePanel);
        status.error(signInMessage(error));
        codeButton.textContent = 'Get a new code';
      }
    }, interval * 1000);
  }

  // User name and password.
  const user = field('User name', { name: 'cloud_username', type: 'email', autocomplete: 'username', placeholder: 'admin@contoso.com' });
  const pass = field('Password', { name: 'cloud_password', type: 'password', autocomplete: 'current-password' },
    'Any characters are allowed. Accounts with multi-factor sign-in must use a device code.');
  const passButton = h('button', { type: 'submit' }, 'Sign in with password');
  const passForm = h('form', { class: 'narrow', novalidate: true }, user.row, pass.row, h('div', { class: 'actions' }, passButton));
  passForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!user.input.value.trim() || !pass.input.value) {
      status.error('Enter the user name and the password.');
      return;
    }
    busy(passButton, null, async () => {
      stop();
      status.info('Signing in…');
      try {
        const answer = await ctx.api.post('/api/v1/signin/password', {
          username: user.input.value.trim(),
          password: pass.input.value,
        });
        pass.input.value = '';
        done(answer.account);
      } catch (error) {
        status.error(signInMessage(error));
        pass.input.focus();
      }
    });
  });

  function done(account) {
    stop();
    status.ok(`Signed in to the cloud service as ${account}.`);
    ctx.announce(`Signed in as ${account}.`);
    onSignedIn(account);
  }

  replace(container,
    h('div', { class: 'method' },
      h('h2', {}, 'Device code (recommended)'),
      h('p', {}, 'Works with multi-factor sign-in. You finish the sign-in in another browser window.'),
      codeButton, devicePanel),
    h('div', { class: 'method' },
      h('h2', {}, 'User name and password'),
      h('p', {}, 'Only for accounts without multi-factor sign-in.'),
      passForm),
    status.el);
  return stop;
}

/** Wizard step 4. */
export function cloudSignInStep(ctx, body, wiz) {
  let account = null;
  let registered = false;
  const current = h('p', { class: 'current-account', 'aria-live': 'polite' });
  const methods = h('div', { class: 'methods' });
  const show = (text) => { current.textContent = text; };
  replace(body,
    h('p', {}, 'Sign in with a global administrator, a Rights Management global administrator or a connector administrator of your tenant.'),
    current, methods);
  wiz.onCleanup(cloudSignIn(ctx, methods, (signed) => {
    account = signed;
    show(`Signed in as ${signed}.`);
  }));
  ctx.api.get('/api/v1/status').then((status) => {
    registered = Boolean(status.registered);
    if (status.signed_in_as && !account) {
      account = status.signed_in_as;
      show(`Signed in as ${account}. Sign in again below to use a different account.`);
    } else if (!account) show('Not signed in yet.');
  }).catch(() => {});
  return {
    async next() {
      if (account || registered) return true;
      throw new Error('Sign in to the cloud service first.');
    },
  };
}
