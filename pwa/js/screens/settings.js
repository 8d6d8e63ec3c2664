// Settings: language, storage used/free and its protection, logging out, and the licence.
import { h, toast } from '../ui.js';
import { t, lang, setLang } from '../i18n.js';
import { kvGet, count } from '../db.js';
import { estimate, formatBytes, isPersisted, requestPersistence, persistenceSupported } from '../storage.js';
import { logout } from '../session.js';

export async function render(main, _params, { onSignedOut, rerender }) {
  const [session, pending, usage, persisted] = await Promise.all([kvGet('session'), count('outbox'), estimate(), isPersisted()]);
  const langs = h('div', { class: 'chips', role: 'radiogroup', 'aria-label': t('settings.language') },
    ...[['zh', '简体中文'], ['en', 'English']].map(([code, name]) => h('label', {},
      h('input', { type: 'radio', name: 'lang', value: code, checked: lang() === code, onchange: () => { setLang(code); rerender(); } }),
      h('span', { lang: code === 'zh' ? 'zh-CN' : 'en' }, name))));
  const out = h('button', { type: 'button', class: 'danger', id: 'logout', onclick: async () => {
    const ask = pending ? t('settings.logout_unsynced', { n: pending }) : t('settings.logout_confirm');
    if (!confirm(ask)) return;
    await logout();
    toast(t('settings.logged_out'));
    onSignedOut();
  } }, t('settings.logout'));
  main.replaceChildren(...[
    h('h2', {}, t('settings.title')),
    // The login name and the device number are names, not words: translate="no".
    h('p', {}, t('settings.signed_in', { name: session?.user?.display_name || '' }), ' ',
      session?.user?.username ? h('span', { translate: 'no', class: 'meta' }, session.user.username) : null),
    h('h3', {}, t('settings.language')), langs,
    h('h3', {}, t('settings.storage')),
    h('p', { id: 'storage-usage' }, usage ? t('settings.usage', { used: formatBytes(usage.usage), free: formatBytes(usage.quota - usage.usage) }) : t('settings.usage_unknown')),
    h('p', { id: 'storage-persisted' }, persisted ? t('settings.persisted') : t('settings.not_persisted')),
    persisted || persistenceSupported() ? null : h('p', { id: 'storage-persist-unsupported' }, t('settings.persist_unsupported')),
    persisted || !persistenceSupported() ? null : h('button', { type: 'button', onclick: async () => { toast((await requestPersistence(true)) ? t('settings.persisted') : t('settings.not_persisted')); rerender(); } }, t('banner.persist_button')),
    h('h3', {}, t('settings.account')),
    h('p', { class: 'meta' }, t('settings.device'), ' ', h('span', { translate: 'no' }, (session?.device_id || '').slice(0, 8))),
    out,
    // The AGPL's offer of the source to everyone who uses the program over the network.
    h('h3', {}, t('settings.about')),
    h('p', { class: 'meta', id: 'license' }, t('settings.license'), ' ',
      h('a', { href: '/source.tar.gz', download: '' }, t('settings.source'))),
  ].filter(Boolean));
}
