// Login: online once; afterwards the app opens signed in, with or without signal.
import { h } from '../ui.js';
import { t } from '../i18n.js';
import { login, current } from '../session.js';
import { Offline, HttpError } from '../api.js';

export async function render(main, _params, { onSignedIn }) {
  const previous = await current();   // signing in again: the records on the phone stay
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const form = h('form', { 'aria-describedby': 'login-error', novalidate: true },
    h('label', { for: 'username' }, t('login.username')),
    h('input', { id: 'username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', required: true, value: previous?.user?.username || '' }),
    h('label', { for: 'password' }, t('login.password')),
    h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    error,
    h('button', { class: 'primary', type: 'submit', style: 'width:100%;margin-top:12px' }, t('login.submit')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      await login(form.username.value.trim(), form.password.value);
      onSignedIn();
    } catch (e) {
      error.textContent = e instanceof Offline ? t('login.offline')
        : e.code === 'other_user_data' ? t('login.other_user')
        : e instanceof HttpError && e.status === 429 ? t('login.throttled')
        : e instanceof HttpError && e.status < 500 ? t('login.bad') : t('login.failed');
    } finally {
      button.disabled = false;
    }
  });
  main.replaceChildren(h('h2', {}, t('login.title')), h('p', { class: 'meta', id: 'login-hint' }, t(previous ? 'login.again_hint' : 'login.hint')), form);
}
