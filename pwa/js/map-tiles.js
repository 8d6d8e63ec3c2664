// Online tiles under the phone map (issue 14 item 3): when the office has a tile provider
// (GET /api/v1/map/tiles) and the phone is online, Web Mercator XYZ tiles at the zoom that
// matches the view's scale are drawn under the vector layers. Everything else stays WGS-84:
// each tile is placed where its datum says it belongs — a GCJ-02 tile's corners are GCJ-02
// coordinates, turned into WGS-84 (gcj02ToWgs84) and then into the map's metric frame — so
// the roads, cells, position and taps over it line up without shifting any of them
// (docs/maps.md). Tiles are never required: offline or on failure the map is as before.
import { getJSON } from './api.js';
import { gcj02ToWgs84, wgs84ToGcj02 } from './gcj02.js';

const TILE = 256;
const CIRCUMFERENCE = 2 * Math.PI * 6378137; // the Web Mercator sphere's equator, metres
const MIN_ZOOM = 3;
const HELD = 200;        // decoded images kept (per z/x/y), the oldest dropped first
const MAX_DRAWN = 96;    // a safety bound: tiles requested for one picture
const GIVE_UP = 3;       // failed tiles in a row: the provider is unreachable, stop asking
const THROTTLE_MS = 150; // arrivals within this are drawn by one redraw
const PARENTS = 3;       // a missing tile is drawn from a loaded parent up to 3 levels up
const DOWN_MS = 5 * 60 * 1000; // a host that failed its first tile is not asked again for 5 min
const down = new Map(); // url template → when it failed (for every map built on this page)

/** The office's tile provider, or null (offline, none configured, or any failure). */
export async function tileSettings() {
  if (!navigator.onLine) return null;
  try {
    const s = await getJSON('/api/v1/map/tiles');
    const whole = s && s.enabled === true && typeof s.url === 'string' && /^https?:\/\//.test(s.url);
    return whole ? s : null;
  } catch (error) { // Offline or HttpError: a map without tiles, as before
    return null;
  }
}

/** The tile's north-west corner (z/x/y) as [lon, lat] in the tile's own datum. */
function corner(z, x, y) {
  const n = 2 ** z;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / n))) * 180) / Math.PI;
  return [(x / n) * 360 - 180, lat];
}

/** The tile holding [lon, lat] (tile datum) at zoom z, as fractional [x, y]. */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const s = Math.sin((lat * Math.PI) / 180);
  return [((lon + 180) / 360) * n, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n];
}

/**
 * A tile layer for `settings` in the map's frame `f`; `onArrive()` is called (throttled) when
 * tiles have come in, so the map draws its picture again.
 */
export function tileLayer(settings, f, onArrive) {
  const gcj = settings.datum === 'gcj02';
  const maxZoom = Math.min(22, Math.max(MIN_ZOOM, Number(settings.max_zoom) || 18));
  const subdomains = Array.isArray(settings.subdomains) ? settings.subdomains : [];
  const held = new Map(); // 'z/x/y' → { img, ready }
  const stats = { requested: 0, loaded: 0, failed: 0, drawn: 0, missing: 0, zoom: null, down: false };
  const isDown = () => { stats.down = Date.now() - (down.get(settings.url) ?? -Infinity) < DOWN_MS; return stats.down; };
  const placed = new Map(); // 'z/x/y' → [x0, y0, x1, y1] in the picture's CSS pixels (tests)
  let failedInRow = 0;
  let trusted = false; // until one tile has loaded, one request at a time (a dead host: one error)
  let inFlight = 0;
  let timer = 0;

  // the datum conversions: map (WGS-84 metres) ⇄ the tiles' lon/lat
  const toMap = (lon, lat) => (gcj ? f.toXY(...gcj02ToWgs84(lon, lat)) : f.toXY(lon, lat));
  const toTiles = (x, y) => { const [lon, lat] = f.toLonLat(x, y); return gcj ? wgs84ToGcj02(lon, lat) : [lon, lat]; };

  const url = (z, x, y) => settings.url
    .replace('{s}', subdomains.length ? subdomains[Math.abs(x + y) % subdomains.length] : '')
    .replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)).replace('{r}', '');

  const arrived = () => {
    if (!timer) timer = setTimeout(() => { timer = 0; onArrive(); }, THROTTLE_MS);
  };

  /** The held image for z/x/y (asked for once, if `ask`), or null. */
  function tile(z, x, y, ask) {
    const key = `${z}/${x}/${y}`;
    const got = held.get(key);
    if (got) { held.delete(key); held.set(key, got); return got; } // most recent last
    if (!ask || failedInRow >= GIVE_UP || !navigator.onLine || (!trusted && (inFlight > 0 || isDown()))) return null;
    // An <img>, not fetch(): the CSP's img-src names the tile hosts, connect-src stays 'self'.
    const img = new Image();
    const entry = { img, ready: false };
    img.decoding = 'async';
    img.onload = () => { inFlight -= 1; trusted = true; entry.ready = true; failedInRow = 0; stats.loaded += 1; arrived(); };
    img.onerror = () => { // kept in `held`: not asked again
      inFlight -= 1; failedInRow += 1; stats.failed += 1;
      if (!trusted) { down.set(settings.url, Date.now()); stats.down = true; }
    };
    img.src = url(z, x, y);
    stats.requested += 1;
    inFlight += 1;
    held.set(key, entry);
    while (held.size > HELD) held.delete(held.keys().next().value);
    return entry;
  }

  /** The zoom whose tiles are closest to one tile pixel per CSS pixel at `scale` px/m. */
  function zoomFor(scale) {
    const metresPerTile = CIRCUMFERENCE * Math.cos((f.lat0 * Math.PI) / 180);
    const z = Math.round(Math.log2((scale * metresPerTile) / TILE));
    return Math.min(maxZoom, Math.max(MIN_ZOOM, z));
  }

  /** Screen rectangle [x0, y0, x1, y1] (CSS px of `view`) of tile z/x/y, its datum honoured. */
  function rect(view, z, x, y) {
    const [x0, y0] = view.toScreen(...toMap(...corner(z, x, y)));
    const [x1, y1] = view.toScreen(...toMap(...corner(z, x + 1, y + 1)));
    return [x0, y0, x1, y1];
  }

  /**
   * Draw the tiles that cover `view` into ctx (whose transform is CSS pixels × dpr), under
   * whatever comes next. Missing tiles are asked for and, meanwhile, cut from a loaded parent.
   */
  function draw(ctx, view, dpr) {
    const z = zoomFor(view.scale);
    const [bx0, by0, bx1, by1] = view.box();
    const corners = [[bx0, by0], [bx1, by0], [bx0, by1], [bx1, by1]].map(([x, y]) => tileOf(...toTiles(x, y), z));
    const n = 2 ** z;
    const tx0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    const tx1 = Math.min(n - 1, Math.floor(Math.max(...corners.map((c) => c[0]))));
    const ty0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    const ty1 = Math.min(n - 1, Math.floor(Math.max(...corners.map((c) => c[1]))));
    stats.zoom = z; stats.drawn = 0; stats.missing = 0; placed.clear();
    if ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) > MAX_DRAWN) return stats;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0); // device pixels: whole-pixel edges, no seams
    ctx.imageSmoothingQuality = 'high';
    for (let x = tx0; x <= tx1; x += 1) for (let y = ty0; y <= ty1; y += 1) {
      const [x0, y0, x1, y1] = rect(view, z, x, y);
      const [dx0, dy0, dx1, dy1] = [x0, y0, x1, y1].map((v) => Math.round(v * dpr));
      const own = tile(z, x, y, true);
      if (own && own.ready) {
        ctx.drawImage(own.img, dx0, dy0, dx1 - dx0, dy1 - dy0);
        placed.set(`${z}/${x}/${y}`, [x0, y0, x1, y1]);
        stats.drawn += 1;
        continue;
      }
      stats.missing += 1;
      for (let up = 1; up <= PARENTS && z - up >= MIN_ZOOM; up += 1) { // a coarser stand-in
        const k = 2 ** up;
        const parent = tile(z - up, Math.floor(x / k), Math.floor(y / k), false);
        if (!parent || !parent.ready) continue;
        const side = TILE / k;
        ctx.drawImage(parent.img, (x % k) * side, (y % k) * side, side, side, dx0, dy0, dx1 - dx0, dy1 - dy0);
        break;
      }
    }
    ctx.restore();
    return stats;
  }

  return { settings, draw, zoomFor, rect, stats, placed };
}
