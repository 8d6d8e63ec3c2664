// Home / where am I: the cell the worker stands in, computed on the phone, on a map of
// their cells. Works with no fix at all (denied, indoors): it just says so.
import { h } from '../ui.js';
import { t } from '../i18n.js';
import { all } from '../db.js';
import * as geo from '../geo.js';
import { createMap } from '../map.js';
import { householdsByDue } from '../data.js';

export async function render(main) {
  const [cells, households, cases] = await Promise.all([all('cells'), householdsByDue(), all('cases')]);
  const due = households.filter((x) => x.overdue).length;
  const where = h('p', { class: 'big', id: 'where' });
  const detail = h('p', { class: 'meta', id: 'where-detail' });
  const mapBox = h('div', { id: 'map' });
  const update = () => {
    const fix = geo.currentFix();
    const here = fix ? geo.cellAt(cells, fix.lon, fix.lat) : null;
    if (geo.state.status === 'denied') where.textContent = t('home.denied');
    else if (!fix) where.textContent = geo.state.status === 'unavailable' ? t('home.unavailable') : t('home.waiting');
    else where.textContent = here ? here.name : (cells.length ? t('home.outside') : t('home.no_cells'));
    detail.textContent = fix
      ? t('home.fix', { lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: Math.round(fix.accuracy_m) })
      : t('home.save_anyway');
    where.dataset.cell = here ? here.code : '';
    map.setFix(fix, here && here.code);
  };
  main.replaceChildren(
    h('h2', {}, t('home.title')), where, detail, mapBox,
    h('div', { class: 'row', style: 'margin-top:12px' },
      h('a', { class: 'btn primary', href: '#/visits', style: 'text-align:center' }, t('home.due', { n: due })),
      h('a', { class: 'btn', href: '#/report', style: 'text-align:center' }, t('home.report'))),
    h('p', { class: 'meta' }, t('home.cells', { n: cells.filter((c) => c.level === 'building_group').length || cells.length, h: households.length })),
  );
  const map = await createMap(mapBox, { cells, households, cases, label: t('home.map_label', { n: cells.length }) });
  (window.wangge ||= {}).map = map; // for tests and the bench
  update();
  geo.start();
  const off = geo.onFix(update);
  return () => { off(); map.close(); };
}
