// Outbox and sync: what is waiting, what went, what the server refused and why.
import { h } from '../ui.js';
import { t, fmt, reasonText } from '../i18n.js';
import { all } from '../db.js';
import { status, syncNow, onStatus } from '../sync-client.js';
import { onChange } from '../outbox.js';

const photosOf = (e) => (e.name === 'photo.attach' ? [e.args.sha256] : e.args?.photos || []);

export async function render(main) {
  const box = h('div');
  const draw = async () => {
    const [pending, journal, photos] = await Promise.all([all('outbox'), all('journal'), all('photos')]);
    const bySha = new Map(photos.map((p) => [p.sha256, p]));
    const photoState = (sha) => {
      const p = bySha.get(sha);
      if (!p) return null;
      const fraction = status.progress[sha];
      const label = p.upload_state === 'uploaded' ? t('state.photo_sent')
        : p.upload_state === 'failed' ? t('state.photo_failed', { code: t(`reason.${p.error}`, {}, p.error) })
        : fraction != null || p.offset ? t('state.uploading', { pct: Math.round(100 * (fraction ?? p.offset / p.size)) })
        : t('state.photo_waiting');
      return h('div', { class: 'meta', 'data-photo': sha }, label);
    };
    const row = (e) => h('li', { 'data-seq': e.seq, 'data-state': e.state }, h('div', { class: 'item' },
      h('strong', {}, e.summary || t(`mutation.${e.name}`)),
      h('div', { class: `state-${e.state}` }, t(`state.${e.state}`),
        e.state === 'rejected' ? `: ${reasonText(e.result)}` : ''),
      ...photosOf(e).map(photoState),
      h('div', { class: 'meta' }, fmt.time(e.recorded_at_device), ' · #', e.seq)));
    const recent = journal.slice(-30).reverse();
    box.replaceChildren(
      h('div', { class: 'card' },
        h('p', { class: 'big', id: 'pending-count', 'data-count': pending.length }, t('sync.pending', { n: pending.length })),
        h('p', { id: 'last-sync' }, t('sync.last', { at: status.lastSuccessAt ? fmt.time(status.lastSuccessAt) : t('sync.never') })),
        status.lastError ? h('p', { class: 'error', id: 'sync-error' }, t(`sync.error.${status.lastError}`, {}, status.lastError)) : null,
        h('button', { type: 'button', class: 'primary', id: 'sync-button', disabled: status.running, onclick: () => syncNow() },
          status.running ? t('sync.running') : t('sync.now'))),
      h('h3', {}, t('sync.waiting_list')),
      pending.length ? h('ul', { class: 'list', id: 'outbox-list' }, pending.map(row)) : h('p', { class: 'meta' }, t('sync.nothing')),
      h('h3', {}, t('sync.done_list')),
      recent.length ? h('ul', { class: 'list', id: 'journal-list' }, recent.map(row)) : h('p', { class: 'meta' }, t('sync.nothing')));
  };
  main.replaceChildren(h('h2', {}, t('sync.title')), box);
  await draw();
  const offs = [onStatus(draw), onChange(draw)];
  return () => offs.forEach((off) => off());
}
