// Home / where am I: the cell the worker stands in, computed on the phone, named by its path
// (新华一村 › 第二块区 › 1号楼组; the code on hover); outside their cells, the cell and whose it
// is. Works with no fix at all (denied, indoors): it just says so.
import { h } from '../ui.js';
import { t } from '../i18n.js';
import { all, kvGet } from '../db.js';
import * as geo from '../geo.js';
import { createMap } from '../map.js';
import { householdsByDue, campaignsWithProgress } from '../data.js';
import { placeIndex, pathOf, placeAt, workersOf } from '../places.js';
import { status as syncStatus, onStatus } from '../sync-client.js';

export async function render(main) {
  const [cells, households, cases, reference, campaigns] = await Promise.all([
    all('cells'), householdsByDue(), all('cases'), kvGet('reference'), campaignsWithProgress()]);
  const todo = campaigns.reduce((n, c) => n + c.targets.length - c.done, 0);
  const index = placeIndex(cells, reference?.grid);
  const due = households.filter((x) => x.overdue).length;
  const where = h('p', { class: 'big', id: 'where' });
  const whose = h('p', { id: 'where-worker' });
  const detail = h('p', { class: 'meta', id: 'where-detail' });
  const mapBox = h('div', { id: 'map' });
  // Before the first sync has answered there are no cells yet: say it is syncing, not that
  // nothing was ever synced.
  const firstSync = () => !cells.length && !syncStatus.lastSuccessAt && !syncStatus.lastError;
  const update = () => {
    const fix = geo.currentFix();
    const place = fix ? placeAt(index, cells, fix.lon, fix.lat) : null;
    const here = place && place.own ? place.cell : null;
    where.removeAttribute('title');
    whose.textContent = '';
    if (!cells.length) where.textContent = firstSync() ? t('home.syncing') : t('home.no_cells');
    else if (geo.state.status === 'denied') where.textContent = t('home.denied');
    else if (!fix) where.textContent = geo.state.status === 'unavailable' ? t('home.unavailable') : t('home.waiting');
    else if (here) where.textContent = pathOf(index, here.code);
    else if (place) {
      where.textContent = t('home.outside_named', { cell: pathOf(index, place.cell.code) });
      const names = workersOf(index, place.cell.code);
      whose.textContent = names.length ? t('home.their_worker', { names: names.join('、') }) : t('home.no_worker');
    } else where.textContent = reference?.grid?.length ? t('home.unknown_place') : t('home.outside');
    if (place) where.title = place.cell.code; // the code only on hover
    detail.textContent = fix
      ? t('home.fix', { lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: Math.round(fix.accuracy_m) })
      : t('home.save_anyway');
    where.dataset.cell = place ? place.cell.code : '';
    where.dataset.own = place ? String(place.own) : '';
    map.setFix(fix, here && here.code);
  };
  main.replaceChildren(...[
    h('h2', {}, t('home.title')), where, whose, detail,
    // campaigns are few and dated: above the map, where the worker sees them on opening
    campaigns.length ? h('a', { class: 'btn', id: 'home-campaigns', href: '#/campaigns', style: 'display:block;text-align:center;margin:8px 0;text-decoration:none' },
      t('home.campaigns', { n: campaigns.length, todo })) : null,
    mapBox,
    h('div', { class: 'row', style: 'margin-top:12px' },
      h('a', { class: 'btn primary', href: '#/visits', style: 'text-align:center' }, t('home.due', { n: due })),
      h('a', { class: 'btn', href: '#/report', style: 'text-align:center' }, t('home.report'))),
    h('p', { class: 'meta' }, t('home.cells', { n: cells.filter((c) => c.level === 'building_group').length || cells.length, h: households.length })),
  ].filter(Boolean)); // replaceChildren would write a null as the text "null"
  const map = await createMap(mapBox, { cells, households, cases, label: t('home.map_label', { n: cells.length }) });
  (window.wangge ||= {}).map = map; // for tests and the bench
  update();
  geo.start();
  const offFix = geo.onFix(update);
  // The first sync brings the cells; the app draws this screen again when it ends
  // (app.js startSession), so until then it keeps saying "syncing".
  const offSync = onStatus((s) => { if (!(cells.length === 0 && !s.running && s.lastSuccessAt)) update(); });
  return () => { offFix(); offSync(); map.close(); };
}
