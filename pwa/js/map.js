// A map of the worker's cells and position as inline SVG: no tile server, works offline.
const NS = 'http://www.w3.org/2000/svg';
const SIZE = 1000;

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
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
  const shown = cells.filter((c) => c.geometry);
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
    el('path', { d, 'fill-rule': 'evenodd', fill: isHere ? '#ffe08a' : 'rgba(13,92,99,0.06)',
      stroke: isHere ? '#a06800' : '#0d5c63', 'stroke-width': isHere ? 6 : 2 }, svg);
  }
  if (fix) {
    const [cx, cy] = px(fix.lon, fix.lat);
    const r = Math.max(8, Math.min(300, fix.accuracy_m * scale * (1 / 111320)));
    el('circle', { cx, cy, r, fill: 'rgba(30,110,220,0.15)', stroke: '#1e6edc', 'stroke-width': 2 }, svg);
    el('circle', { cx, cy, r: 12, fill: '#1e6edc', stroke: '#fff', 'stroke-width': 4 }, svg);
  }
  return svg;
}
