// Where am I: watchPosition, keep the best recent fix, and find the cell on the phone.
// Positions are WGS-84 as the browser gives them; stored raw with their accuracy (§3.7).
const FRESH_MS = 2 * 60 * 1000;

export const state = { status: 'idle', best: null, error: null };
const listeners = new Set();
export const onFix = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
const emit = () => listeners.forEach((fn) => fn(state));
let watchId = null;

export function start() {
  if (watchId !== null) return;
  if (!('geolocation' in navigator)) { state.status = 'unavailable'; emit(); return; }
  state.status = 'waiting';
  emit();
  watchId = navigator.geolocation.watchPosition(
    (pos) => {
      const fix = { lon: pos.coords.longitude, lat: pos.coords.latitude,
        accuracy_m: pos.coords.accuracy, at: pos.timestamp || Date.now(),
        heading: Number.isFinite(pos.coords.heading) ? pos.coords.heading : null };
      const best = state.best;
      const stale = !best || Date.now() - best.at > FRESH_MS;
      if (stale || fix.accuracy_m <= best.accuracy_m) state.best = fix;
      state.status = 'ok';
      emit();
    },
    (error) => {
      state.status = error.code === error.PERMISSION_DENIED ? 'denied' : 'unavailable';
      state.error = error.message;
      emit();
    },
    { enableHighAccuracy: true, timeout: 30000, maximumAge: 10000 },
  );
}

/** The best fix of the last two minutes, or null (saving never waits for it). */
export function currentFix() {
  const best = state.best;
  return best && Date.now() - best.at <= FRESH_MS ? best : null;
}

function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** GeoJSON Polygon/MultiPolygon contains (lon, lat), holes respected. */
export function contains(geometry, lon, lat) {
  if (!geometry) return false;
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates]
    : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  return polys.some((rings) => inRing(lon, lat, rings[0]) && !rings.slice(1).some((h) => inRing(lon, lat, h)));
}

const DEPTH = { street: 0, residential_area: 1, block: 2, building_group: 3 };

/** The deepest of `cells` containing the point (a building group before its block), or null. */
export function cellAt(cells, lon, lat) {
  const hits = cells.filter((c) => {
    try {
      return contains(c.geometry, lon, lat);
    } catch (error) { // a cell with a broken outline is no answer, never the end of the screen
      console.warn('geo: a cell with a broken outline was skipped', c && c.code);
      return false;
    }
  });
  hits.sort((a, b) => (DEPTH[b.level] ?? 0) - (DEPTH[a.level] ?? 0) || a.code.localeCompare(b.code));
  return hits[0] || null;
}
