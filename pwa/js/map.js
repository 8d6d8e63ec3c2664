// The worker's map, offline: the base layers kept in IndexedDB (map-layers.js) under the
// worker's cells, the position with its accuracy and heading, due households and open cases
// as markers; drag, pinch, wheel or +/− to move; a tap on a footprint lists its households.
// Canvas, not SVG: one transform per redraw keeps 2,000 footprints under 100 ms (docs/pwa.md).
import { h } from './ui.js';
import { t } from './i18n.js';
import { frame as makeFrame, loadLayers, storedBox } from './map-layers.js';
import { createView, still } from './map-view.js';
import { buildPaths, draw, drawFix } from './map-draw.js';
import { linkHouseholds, markersOf, pick, casesIn } from './map-pick.js';
import { tileLayer, tileSettings } from './map-tiles.js';

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

function rings(geometry) {
  if (!geometry || !Array.isArray(geometry.coordinates)) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

/** Whether a cell can be drawn: rings of finite [lon, lat] positions (a bad one is skipped). */
function drawable(cell) {
  const rs = rings(cell && cell.geometry);
  return rs.length > 0 && rs.every((r) => Array.isArray(r) && r.length > 0
    && r.every((p) => Array.isArray(p) && finite(p[0]) && finite(p[1])));
}

function cellsBox(cells) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of cells) for (const r of rings(c.geometry)) for (const [x, y] of r) {
    b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
  }
  return b;
}

/**
 * Build the map into `box` (replacing its children). Returns {setFix(fix, hereCode), stats,
 * redraw()}; the canvas carries data-drawn, data-roads, data-buildings, data-labels and
 * data-draw-ms for tests and the bench.
 */
export async function createMap(box, { cells, households, cases, label = '' }) {
  const shown = cells.filter(drawable);
  const skipped = cells.length - shown.length;
  if (skipped) console.warn(`map: ${skipped} cell(s) without a drawable outline were skipped`);
  const layerBox = await storedBox();
  const cb = shown.length ? cellsBox(shown) : layerBox;
  const centre = cb ? [(cb[0] + cb[2]) / 2, (cb[1] + cb[3]) / 2] : [121.4266, 31.2088];
  const f = makeFrame(...centre);
  const layers = await loadLayers(f);
  const projected = shown.map((c) => ({
    code: c.code,
    parent_code: c.parent_code,
    rings: rings(c.geometry).map((r) => Float32Array.from(r.flatMap(([x, y]) => f.toXY(x, y)))),
  }));
  const paths = buildPaths(layers, projected);
  const link = linkHouseholds(layers.buildings, households, f);
  const markers = markersOf(link, cases, f);

  const canvas = h('canvas', { class: 'map', role: 'img', 'aria-label': label, id: 'map-canvas' });
  canvas.dataset.skipped = String(skipped);
  const sheet = h('section', { id: 'map-sheet', class: 'card', hidden: true, 'aria-live': 'polite' });
  const credit = h('p', { class: 'map-credit meta' }, layers.attribution.join(' · '));
  const state = { fix: null, hereCode: null, selected: null, frame: 0, marks: { households: [], cases: [] } };
  // online tiles under the layers, once the office says it has them (map-tiles.js)
  let tiles = null;
  const scene = { layers, paths, markers, underlay: (ctx, v, dpr) => tiles && tiles.draw(ctx, v, dpr) };

  // The picture (layers, cells, labels, markers) is drawn into an offscreen canvas 1.5 times the
  // view's size and copied; a pan re-uses it until the view leaves it, a zoom or a new
  // selection draws it again. The position is drawn over the copy.
  const PAD = 1.5;
  const cache = { canvas: document.createElement('canvas'), view: null, key: '' };
  const inside = (v, c) => { const [a, b, cc, d] = v.box(); const [e, f2, g, hh] = c.box(); return a >= e && b >= f2 && cc <= g && d <= hh; };
  const redraw = () => {
    state.frame = 0;
    const started = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const key = `${view.scale}|${view.width}x${view.height}|${dpr}|${state.hereCode}|${layers.buildings.indexOf(state.selected)}`;
    const full = !cache.view || cache.key !== key || !inside(view, cache.view);
    if (full) {
      cache.view = still(view.cx, view.cy, view.scale, view.width * PAD, view.height * PAD);
      cache.canvas.width = Math.round(cache.view.width * dpr); cache.canvas.height = Math.round(cache.view.height * dpr);
      cache.key = key;
      const stats = draw(cache.canvas, cache.view, { ...scene, hereCode: state.hereCode, selected: state.selected });
      map.lastLabels = stats.labels;
      state.marks = stats.marks;
    }
    const ctx = canvas.getContext('2d', { alpha: false });
    const [ox, oy] = cache.view.toScreen(...view.toMetres(0, 0)); // the view's corner in the picture
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(cache.canvas, -Math.round(ox * dpr), -Math.round(oy * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (state.fix) drawFix(ctx, view, state.fix);
    const ms = performance.now() - started;
    Object.assign(canvas.dataset, {
      drawn: 'true', roads: String(layers.roads.length), buildings: String(layers.buildings.length),
      labels: String(map.lastLabels.length), selected: String(Boolean(state.selected)), drawMs: ms.toFixed(1),
      full: String(full), scale: view.scale.toFixed(3),
      tiles: String(tiles ? tiles.stats.drawn : 0), tileZoom: String(tiles ? tiles.stats.zoom : ''),
      tilesMissing: String(tiles ? tiles.stats.missing : 0),
    });
    return { ms, full };
  };
  /** A tap in view pixels, in the picture's pixels (where the markers were placed). */
  const inPicture = (sx, sy) => { const [ox, oy] = cache.view.toScreen(...view.toMetres(0, 0)); return [sx + ox, sy + oy]; };
  const schedule = () => { if (!state.frame) state.frame = requestAnimationFrame(redraw); };
  const view = createView(canvas, {
    onChange: schedule,
    onTap: (_, [sx, sy]) => {
      const hit = pick(cache.view, state.marks, layers.buildings, ...inPicture(sx, sy));
      if (hit && hit.zoom) view.zoomBy(2.5, sx, sy); // a group of markers: closer, then choose
      else showPick(hit);
    },
  });

  function showPick(hit) {
    state.selected = hit && hit.building ? hit.building : null;
    schedule();
    if (!hit) { sheet.hidden = true; return; }
    if (hit.case) { location.hash = `#/case/${hit.case.id}`; return; }
    const b = hit.building;
    const list = b ? link.held.get(b) || [] : [hit.household];
    const open = b ? casesIn(b, cases, f) : [];
    const title = b ? [b.street, b.label].filter(Boolean).join('') || t('map.building') : hit.household.address;
    sheet.replaceChildren(
      h('h3', { id: 'map-sheet-title' }, title),
      list.length
        ? h('ul', { class: 'list', id: 'map-households' }, list.map((x) => h('li', {},
          h('a', { href: `#/visit/${x.id}`, 'data-household': x.id },
            h('strong', {}, x.room ? `${x.room}${t('visits.room')}` : x.address || ''), ' ',
            x.overdue ? h('span', { class: 'tag due' }, t('visits.due')) : null,
            h('div', { class: 'meta' }, t('map.residents', { n: (x.residents || []).length }))))))
        : h('p', { class: 'meta' }, t('map.no_households')),
      open.length ? h('ul', { class: 'list', id: 'map-cases' }, open.map((c) => h('li', {},
        h('a', { href: `#/case/${c.id}`, 'data-case': c.id }, h('strong', {}, c.title || c.number || t('case.untitled')),
          ' ', h('span', { class: 'tag' }, t(`status.${c.status}`)))))) : null,
      h('button', { type: 'button', class: 'btn', onclick: () => showPick(null) }, t('map.close')),
    );
    sheet.hidden = false;
  }

  const fitCells = () => { const b = projected.length ? boundsOf(projected) : layerExtent(layers); if (b) view.fit(b); };
  const button = (text, name, onclick) => h('button', { type: 'button', class: 'map-btn', 'aria-label': name, onclick }, text);
  const controls = h('div', { class: 'map-controls' },
    button('+', t('map.zoom_in'), () => view.zoomBy(1.6)),
    button('−', t('map.zoom_out'), () => view.zoomBy(1 / 1.6)),
    button('◎', t('map.locate'), () => (state.fix ? view.centreOn(state.fix.x, state.fix.y) : fitCells())),
    button('⤢', t('map.fit'), fitCells));
  const frameBox = h('div', { class: 'map-frame' }, canvas, controls);
  box.replaceChildren(frameBox, credit, sheet);
  if (!layers.version) box.append(h('p', { class: 'meta', id: 'map-no-layers' }, t('map.no_layers')));

  const resize = () => {
    const r = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    view.width = Math.max(1, r.width); view.height = Math.max(1, r.height);
    canvas.width = Math.round(view.width * dpr); canvas.height = Math.round(view.height * dpr);
  };
  resize();
  fitCells();
  const observer = new ResizeObserver(() => { resize(); redraw(); });
  observer.observe(canvas);
  let closed = false;
  const map = {
    canvas, view, redraw, link, markers, layers, lastLabels: [], marks: () => state.marks, picture: () => cache.view, inPicture,
    setFix(fix, hereCode) {
      const whole = fix && finite(fix.lon) && finite(fix.lat);
      const [x, y] = whole ? f.toXY(fix.lon, fix.lat) : [0, 0];
      state.fix = whole ? { x, y, accuracy_m: fix.accuracy_m, heading: fix.heading } : null;
      if (fix && !state.fix) console.warn('map: the position has no whole point; not drawn');
      state.hereCode = hereCode || null;
      schedule();
    },
    close() { closed = true; observer.disconnect(); window.removeEventListener('online', addTiles); },
    tiles: () => tiles,
    /** Where tile 'z/x/y' was drawn in the last picture, in viewport CSS pixels (tests). */
    tileRect(key) {
      const r = tiles && tiles.placed.get(key);
      if (!r) return null;
      const [ox, oy] = cache.view.toScreen(...view.toMetres(0, 0));
      const c = canvas.getBoundingClientRect();
      return [r[0] - ox + c.left, r[1] - oy + c.top, r[2] - ox + c.left, r[3] - oy + c.top];
    },
  };
  redraw();
  // online tiles: asked for now, and again when the phone comes online without them
  const addTiles = () => tileSettings().then((settings) => {
    if (!settings || closed || tiles) return;
    const again = () => { if (!closed) { cache.key = ''; schedule(); } }; // a full picture
    tiles = tileLayer(settings, f, again);
    canvas.dataset.tilesDatum = settings.datum;
    credit.textContent = [...layers.attribution, settings.attribution].filter(Boolean).join(' · ');
    again();
  });
  addTiles();
  window.addEventListener('online', addTiles);
  return map;
}

function boundsOf(projected) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of projected) for (const r of c.rings) for (let i = 0; i < r.length; i += 2) {
    b[0] = Math.min(b[0], r[i]); b[1] = Math.min(b[1], r[i + 1]); b[2] = Math.max(b[2], r[i]); b[3] = Math.max(b[3], r[i + 1]);
  }
  return b;
}

function layerExtent(layers) {
  const all = [...layers.roads, ...layers.buildings].map((x) => x.bbox);
  if (!all.length) return null;
  return [Math.min(...all.map((b) => b[0])), Math.min(...all.map((b) => b[1])), Math.max(...all.map((b) => b[2])), Math.max(...all.map((b) => b[3]))];
}
