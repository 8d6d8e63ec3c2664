// Visits: households due a visit first; search by building and room; open one to log a visit.
import { h } from '../ui.js';
import { t, lang } from '../i18n.js';
import { householdsByDue, matches, careTagNames } from '../data.js';

const SHOW = 60;

export async function render(main) {
  const [rows, tags] = await Promise.all([householdsByDue(), careTagNames()]);
  const list = h('ul', { class: 'list', id: 'household-list' });
  const search = h('input', { id: 'hh-search', type: 'search', placeholder: t('visits.search_ph'), autocomplete: 'off' });
  const tagName = (code) => { const tag = tags.get(code); return tag ? (lang() === 'en' ? tag.name_en : tag.name_zh) : code; };
  const draw = () => {
    const found = rows.filter((r) => matches(r, search.value));
    list.replaceChildren(...found.slice(0, SHOW).map((r) => h('li', {},
      h('a', { href: `#/visit/${r.id}`, 'data-household': r.id },
        h('strong', {}, `${r.building || ''}${t('visits.bldg')} ${r.room || ''}${t('visits.room')}`), ' ',
        r.overdue ? h('span', { class: 'tag due' }, t('visits.due')) : null,
        ...r.tags.map((code) => h('span', { class: 'tag' }, tagName(code))),
        h('div', { class: 'meta' }, r.address || '',
          ' · ', r.lastVisitAt ? t('visits.last', { d: Math.floor((Date.now() - r.lastVisitAt) / 86400000) }) : t('visits.never'))))));
    if (!found.length) list.append(h('li', {}, h('p', { class: 'meta item' }, rows.length ? t('visits.none_match') : t('visits.empty'))));
    if (found.length > SHOW) list.append(h('li', {}, h('p', { class: 'meta item' }, t('visits.more', { n: found.length - SHOW }))));
  };
  search.addEventListener('input', draw);
  main.replaceChildren(
    h('h2', {}, t('visits.title')),
    h('label', { for: 'hh-search' }, t('visits.search')), search,
    h('p', { class: 'meta' }, t('visits.count', { due: rows.filter((r) => r.overdue).length, n: rows.length })),
    list);
  draw();
}
