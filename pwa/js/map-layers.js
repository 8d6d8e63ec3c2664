// The base layers around the worker's cells (roads, footprints, places): pulled after each
// sync when their version changed, kept in IndexedDB (kv 'base_layers'), decoded for drawing.
// Wire shape: server/layers/phone.py (integers in `unit` degrees from `origin`, delta-coded).
import { kvGet, kvSet } from './db.js';
import { getJSON, HttpError } from './api.js';

const KEY = 'base_layers';
const M_PER_DEG = 111320;

/** Fetch the layers if the server's version differs from ours (304 otherwise). */
export async function refreshLayers() {
  const held = await kvGet(KEY);
  const headers = held && held.version ? { 'If-None-Match': `"${held.version}"` } : {};
  let body;
  try {
    body = await getJSON('/api/v1/sync/layers', { headers });
  } catch (error) {
    if (error instanceof HttpError && error.status === 304) return false;
    throw error;
  }
  if (!body || body.format !== 1) return false; // a newer server: keep what we draw today
  await kvSet(KEY, body);
  decoded = null;
  return true;
}

let decoded = null;

/** A local metric frame (x east, y north, metres) around a lon/lat origin. */
export function frame(lon0, lat0) {
  const ky = M_PER_DEG;
  const kx = M_PER_DEG * Math.cos((lat0 * Math.PI) / 180);
  return {
    lon0, lat0, kx, ky,
    toXY: (lon, lat) => [(lon - lon0) * kx, (lat - lat0) * ky],
    toLonLat: (x, y) => [lon0 + x / kx, lat0 + y / ky],
  };
}

function decodeLine(parts, unit, base, f) {
  const out = new Float32Array(parts.length);
  let x = 0; let y = 0;
  for (let i = 0; i < parts.length; i += 2) {
    x += parts[i]; y += parts[i + 1];
    const [mx, my] = f.toXY(base[0] + x * unit, base[1] + y * unit);
    out[i] = mx; out[i + 1] = my;
  }
  return out;
}

function boundsOf(lines) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const l of lines) for (let i = 0; i < l.length; i += 2) {
    if (l[i] < b[0]) b[0] = l[i]; if (l[i] > b[2]) b[2] = l[i];
    if (l[i + 1] < b[1]) b[1] = l[i + 1]; if (l[i + 1] > b[3]) b[3] = l[i + 1];
  }
  return b;
}

/** The stored layers in the metric frame `f`: {roads, buildings, poi, attribution, version}. */
export async function loadLayers(f) {
  if (decoded && decoded.frame === f) return decoded;
  const body = await kvGet(KEY);
  const empty = { frame: f, roads: [], buildings: [], poi: [], attribution: [], version: null };
  if (!body || !body.origin) { decoded = empty; return empty; }
  const { unit, origin } = body;
  const line = (parts) => decodeLine(parts, unit, origin, f);
  const roads = body.roads.map(([name, cls, ...parts]) => {
    const lines = parts.map(line);
    return { name, cls, lines, bbox: boundsOf(lines) };
  });
  const buildings = body.buildings.map(([label, street, number, ...parts]) => {
    const rings = parts.map(line);
    const bbox = boundsOf(rings);
    return { label, street, number, rings, bbox, cx: (bbox[0] + bbox[2]) / 2, cy: (bbox[1] + bbox[3]) / 2 };
  });
  const poi = body.poi.map(([name, x, y]) => {
    const [mx, my] = f.toXY(origin[0] + x * unit, origin[1] + y * unit);
    return { name, x: mx, y: my };
  });
  decoded = { frame: f, roads, buildings, poi, attribution: body.attribution || [], version: body.version, bbox: body.bbox };
  return decoded;
}

/** The stored answer's box (WGS-84) or null: the map's frame is taken from it. */
export async function storedBox() {
  const body = await kvGet(KEY);
  return body && body.bbox ? body.bbox : null;
}
