// signin.js: the administrator sign-in form (the appliance's own account, not the cloud's).

import { busy, field, h, pageHeading, replace, statusLine } from './dom.js';

/** Shows the sign-in form in `main`; calls `done` once signed in. */
export function renderSignIn(ctx, main, notice, done) {
  const status = statusLine();
  const user = field('User name', { name: 'username', autocomplete: 'username', required: true, value: 'admin' });
  const pass = field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'narrow', novalidate: true }, user.row, pass.row,
    h('div', { class: 'actions' }, submit), status.el);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!user.input.value.trim() || !pass.input.value) {
      status.error('Enter the user name and the password.');
      (user.input.value.trim() ? pass.input : user.input).focus();
      return;
    }
    busy(submit, status, async () => {
      status.info('Signing in…');
      const answer = await ctx.api.post('/api/v1/session', {
        username: user.input.value.trim(),
        password: pass.input.value,
      });
      ctx.setSession('signed_in', answer.user, answer.csrf_token);
      status.clear();
      done();
    }).then(() => {
      if (ctx.session.state !== 'signed_in') {
        pass.input.value = '';
        pass.input.focus();
      }
    });
  });

  replace(main, h('div', { class: 'page signin' },
    pageHeading('Sign in to the connector appliance'),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    h('p', {}, 'Use the administrator account set during first-run setup.'),
    form));
}
