// Online tiles under the vector layers, drawn in their own datum (issue 14, item 3), and
// "locate me" with building-level zoom on the maps that ask for them (item 6).
//
// Settings come from #wangge-map-tools (server/templates/_map_tools.html: what
// GET /api/v1/map/tiles answers, plus the controls' words). Every L.map made after this module
// ran gets the tile layer and its credit (an init hook), so the pages' own map scripts need no
// change. GCJ-02 tiles (AMap/Tencent style): the maps' CRS projects WGS-84 through GCJ-02 before
// Web Mercator, so every vector layer (cells, base layers, markers) is drawn shifted onto the
// tiles while the code keeps WGS-84 everywhere: clicks (e.latlng), getBounds() and setView()
// speak WGS-84, so a point picked on the map is stored and located unshifted.
import { wgs84ToGcj02, gcj02ToWgs84 } from '../../app/js/gcj02.js';
import { addMapTools } from './map-locate.js';

const L = window.L;
const config = JSON.parse(document.getElementById('wangge-map-tools').textContent);
const tiles = config.tiles;
const Mercator = L.Projection.SphericalMercator;
const maps = new WeakMap(); // container → map, for the pages' classic scripts (below)

/** Web Mercator of GCJ-02 coordinates, with WGS-84 latitudes and longitudes on both ends. */
export const gcj02Crs = L.extend({}, L.CRS.EPSG3857, {
  code: 'WANGGE:GCJ02',
  projection: {
    bounds: Mercator.bounds,
    project(latlng) {
      // Leaflet reprojects every vertex at every zoom; the shift costs ~20× Mercator's own
      // maths, so it is kept on the LatLng object (layers keep theirs) while it is unchanged.
      const memo = latlng._wanggeGcj02;
      if (memo && memo.lat === latlng.lat && memo.lng === latlng.lng) return memo.point.clone();
      const [lon, lat] = wgs84ToGcj02(latlng.lng, latlng.lat);
      const point = Mercator.project(L.latLng(lat, lon));
      latlng._wanggeGcj02 = { lat: latlng.lat, lng: latlng.lng, point };
      return point.clone();
    },
    unproject(point) {
      const shifted = Mercator.unproject(point);
      const [lon, lat] = gcj02ToWgs84(shifted.lng, shifted.lat);
      return L.latLng(lat, lon);
    },
  },
});

function credit(text) {
  const span = document.createElement('span');
  span.textContent = text; // the credit is configuration, shown as text, never markup
  return span.innerHTML;
}

function addTiles(map) {
  const layer = L.tileLayer(tiles.url, {
    subdomains: tiles.subdomains.length ? tiles.subdomains : 'abc',
    maxNativeZoom: tiles.max_zoom, // deeper than the provider serves: its tiles, enlarged
    maxZoom: Math.max(tiles.max_zoom, config.building_zoom + 1),
    attribution: credit(tiles.attribution),
  }).addTo(map);
  if (!map.attributionControl) {
    map.attributionControl = L.control.attribution({ prefix: false }).addTo(map);
  }
  const el = map.getContainer();
  el.dataset.tilesDatum = tiles.datum; // for people reading the DOM, and tests
  layer.on('tileload', () => { el.dataset.tilesLoaded = String(Number(el.dataset.tilesLoaded || 0) + 1); });
}

if (tiles.enabled && tiles.datum === 'gcj02') L.Map.mergeOptions({ crs: gcj02Crs });
L.Map.addInitHook(function wanggeMapTiles() {
  maps.set(this.getContainer(), this);
  if (tiles.enabled) addTiles(this);
  addMapTools(this, config);
});

// For the classic scripts (intake.js): a map by its element, and the zoom to a building.
window.wanggeMapTools = {
  buildingZoom: config.building_zoom,
  mapOf: (el) => maps.get(el) || null,
  zoomToBuilding(el, lat, lon) {
    const map = maps.get(el);
    if (map) map.setView([lat, lon], Math.max(map.getZoom(), config.building_zoom), { animate: false });
  },
};
