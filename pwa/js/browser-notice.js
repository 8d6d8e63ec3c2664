// The full-screen notice for in-app browsers and browsers that cannot keep records: why, how to
// open the app in the phone's own browser, a button to copy the link; "continue here" only
// where records can be saved (the worker then sees a red banner on every screen).
import { h } from './ui.js';
import { t } from './i18n.js';

const APP_KEYS = {
  wechat: 'browser.app.wechat', qq: 'browser.app.qq', alipay: 'browser.app.alipay', dingtalk: 'browser.app.dingtalk',
  weibo: 'browser.app.weibo', douyin: 'browser.app.douyin', webview: 'browser.app.webview',
};

/** The app's name as the worker knows it ("微信"), or the generic "应用内置浏览器". */
export const appName = (app) => t(APP_KEYS[app] || 'browser.app.webview');

function steps(check) {
  if (!check.app) return [t('browser.step_other_browser'), t('browser.step_copy')];
  if (check.app === 'webview') return [t('browser.step_copy')];
  return [t('browser.step_menu'), check.ios ? t('browser.step_open_ios') : t('browser.step_open'), t('browser.step_or_copy')];
}

function copyLink(url, field, state) {
  const say = (key) => { state.textContent = t(key); state.hidden = false; };
  const fallback = () => {
    field.focus();
    field.select();
    let done = false;
    try { done = document.execCommand('copy'); } catch { done = false; }
    say(done ? 'browser.copied' : 'browser.copy_failed');
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(url).then(() => say('browser.copied'), fallback);
  } else {
    fallback();
  }
}

/**
 * Show the notice over everything. `onContinue` is offered only when records can be saved here;
 * it is called after the worker chose to go on.
 */
export function showBrowserNotice(check, onContinue = null) {
  const url = location.origin + location.pathname;
  const blocked = check.blocked;
  const name = appName(check.app);
  const why = [];
  if (!check.indexedDB) why.push(t('browser.no_storage'));
  if (!check.serviceWorker) why.push(t('browser.no_offline'));
  const field = h('input', { id: 'browser-link', type: 'text', readonly: true, value: url, 'aria-label': t('browser.link') });
  const state = h('p', { id: 'browser-copy-state', class: 'meta', role: 'status', hidden: true });
  const box = h('div', { id: 'browser-notice', class: `notice-screen${blocked ? ' blocked' : ''}`, role: 'alertdialog',
    'aria-modal': 'true', 'aria-labelledby': 'browser-notice-title', 'data-app': check.app || 'none', 'data-blocked': String(blocked) },
  h('div', { class: 'notice-body' },
    h('h2', { id: 'browser-notice-title' }, blocked ? t('browser.blocked_title') : t('browser.title')),
    check.app ? h('p', {}, t('browser.in_app', { app: name })) : null,
    ...why.map((text) => h('p', { class: 'error' }, text)),
    h('p', { class: 'strong' }, blocked ? t('browser.blocked_risk') : t('browser.risk')),
    h('h3', {}, t('browser.how')),
    h('ol', { class: 'notice-steps' }, ...steps(check).map((s) => h('li', {}, s))),
    h('label', { for: 'browser-link' }, t('browser.link')), field,
    h('button', { type: 'button', class: 'primary wide', id: 'browser-copy', onclick: () => copyLink(url, field, state) }, t('browser.copy')),
    state,
    onContinue && !blocked
      ? h('button', { type: 'button', class: 'wide danger-outline', id: 'browser-continue', onclick: () => { box.remove(); onContinue(); } }, t('browser.continue'))
      : null));
  document.body.append(box);
  return box;
}
