// A map of the worker's cells and position as inline SVG: no tile server, works offline.
const NS = 'http://www.w3.org/2000/svg';
const SIZE = 1000;

function rings(geometry) {
  if (!geometry || !Array.isArray(geometry.coordinates)) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/** Whether a cell can be drawn: rings of finite [lon, lat] positions (a bad one is skipped). */
function drawable(cell) {
  const rs = rings(cell && cell.geometry);
  return rs.length > 0 && rs.every((r) => Array.isArray(r) && r.length > 0
    && r.every((p) => Array.isArray(p) && finite(p[0]) && finite(p[1])));
}

function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}

/** Draw `cells` (highlighting `here`) and the fix; returns the <svg>. */
export function drawMap(cells, { fix = null, here = null, label = '' } = {}) {
  const svg = el('svg', { viewBox: `0 0 ${SIZE} ${SIZE}`, class: 'map', role: 'img', 'aria-label': label });
  // Each cell on its own: one with a missing or NaN coordinate is skipped, never the map.
  const shown = cells.filter(drawable);
  const skipped = cells.length - shown.length;
  if (skipped) console.warn(`map: ${skipped} cell(s) without a drawable outline were skipped`);
  svg.dataset.skipped = String(skipped);
  if (!shown.length) return svg;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of shown) for (const ring of rings(c.geometry)) for (const [x, y] of ring) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const kx = Math.cos(((y0 + y1) / 2) * Math.PI / 180); // equirectangular, fine at cell scale
  const scale = (SIZE * 0.92) / Math.max((x1 - x0) * kx, y1 - y0, 1e-9);
  const ox = (SIZE - (x1 - x0) * kx * scale) / 2;
  const oy = (SIZE - (y1 - y0) * scale) / 2;
  const px = (lon, lat) => [ox + (lon - x0) * kx * scale, oy + (y1 - lat) * scale];
  const sorted = [...shown].sort((a, b) => (a.level > b.level ? 1 : -1));
  for (const c of sorted) {
    const d = rings(c.geometry).map((r) => `M${r.map(([x, y]) => px(x, y).map((v) => v.toFixed(1)).join(',')).join('L')}Z`).join('');
    const isHere = here && c.code === here.code;
    const path = el('path', { d, 'fill-rule': 'evenodd', fill: isHere ? '#ffe08a' : 'rgba(13,92,99,0.06)',
      stroke: isHere ? '#a06800' : '#0d5c63', 'stroke-width': isHere ? 6 : 2 }, svg);
    // the cell's name as a hover title: a text node, never markup
    const title = el('title', {}, path);
    title.textContent = [c.name, c.code].filter((v) => v != null && v !== '').join(' · ');
  }
  if (fix && !(finite(fix.lon) && finite(fix.lat))) {
    console.warn('map: the position has no whole point; not drawn');
  } else if (fix) {
    const [cx, cy] = px(fix.lon, fix.lat);
    const accuracy = finite(fix.accuracy_m) ? fix.accuracy_m : 0;
    const r = Math.max(8, Math.min(300, accuracy * scale * (1 / 111320)));
    el('circle', { cx, cy, r, fill: 'rgba(30,110,220,0.15)', stroke: '#1e6edc', 'stroke-width': 2 }, svg);
    el('circle', { cx, cy, r: 12, fill: '#1e6edc', stroke: '#fff', 'stroke-width': 4 }, svg);
  }
  return svg;
}
