// My cases: assigned to me first, then the ones I reported, then the rest in my cells.
import { h } from '../ui.js';
import { t, fmt } from '../i18n.js';
import { all, kvGet } from '../db.js';

export async function render(main) {
  const [cases, session, pending] = await Promise.all([all('cases'), kvGet('session'), all('outbox')]);
  const me = session?.user?.id;
  const waiting = new Set(pending.map((e) => e.args?.case_id || e.args?.id));
  const rank = (c) => (c.assignee_id === me ? 0 : c.reporter_id === me || c.pending ? 1 : 2);
  cases.sort((a, b) => rank(a) - rank(b) || String(b.reported_at).localeCompare(String(a.reported_at)));
  const item = (c) => h('li', {}, h('a', { href: `#/case/${c.id}`, 'data-case': c.id },
    h('strong', {}, c.title || c.number || t('case.untitled')), ' ',
    h('span', { class: 'tag' }, t(`status.${c.status}`)),
    c.assignee_id === me ? h('span', { class: 'tag' }, t('cases.mine')) : null,
    waiting.has(c.id) ? h('span', { class: 'tag due' }, t('cases.unsynced')) : null,
    h('div', { class: 'meta' }, [c.number, c.address, fmt.time(c.reported_at)].filter(Boolean).join(' · '))));
  main.replaceChildren(h('h2', {}, t('cases.title')),
    cases.length ? h('ul', { class: 'list', id: 'case-list' }, cases.map(item)) : h('p', { class: 'meta' }, t('cases.empty')));
}
