// "Locate me" and "zoom to building level" on a map whose element has data-map-tools
// (issue 14, item 6). The browser's position is WGS-84, as every layer is: on GCJ-02 tiles the
// map's CRS shifts it for display (map-tiles.js). A fix is announced as a `wangge:pick` event
// on the map's element ({lat, lon, accuracy_m, source: 'locate'}); the page fills its form.
// data-pick-fields="lon,lat" names the inputs holding the picked point, the building zoom's
// centre (else the map's centre).
const L = window.L;
const SVG = 'http://www.w3.org/2000/svg';

function icon(paths) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  paths.forEach((d) => {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    svg.append(path);
  });
  return svg;
}

const CROSSHAIR = ['M12 2v4M12 18v4M2 12h4M18 12h4', 'M12 7a5 5 0 1 0 0 10a5 5 0 1 0 0-10z'];
const BUILDING = ['M5 21V4h10v17M15 9h4v12M3 21h18', 'M8 8h2M8 12h2M8 16h2M12 8h0M12 12h0'];

function button(box, className, label, paths, onClick) {
  const a = L.DomUtil.create('a', className, box);
  a.href = '#';
  a.setAttribute('role', 'button');
  a.title = label;
  a.setAttribute('aria-label', label);
  a.append(icon(paths));
  Object.assign(a.style, { display: 'flex', alignItems: 'center', justifyContent: 'center', color: '#1f2328' });
  L.DomEvent.on(a, 'click', (e) => { L.DomEvent.preventDefault(e); onClick(); });
  return a;
}

function statusBox(map) {
  const Box = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd() {
      const p = L.DomUtil.create('p', 'wangge-map-status');
      p.setAttribute('role', 'status');
      p.setAttribute('aria-live', 'polite');
      Object.assign(p.style, { margin: '0', padding: '4px 8px', background: 'rgba(255,255,255,0.92)',
        borderRadius: '4px', maxWidth: '18rem', font: '13px/1.4 sans-serif', color: '#1f2328' });
      p.hidden = true;
      return p;
    },
  });
  const box = new Box().addTo(map).getContainer();
  return (text) => { box.textContent = text || ''; box.hidden = !text; };
}

function pickedPoint(el) {
  const [lonId, latId] = (el.dataset.pickFields || '').split(',');
  const lon = parseFloat((document.getElementById(lonId) || {}).value);
  const lat = parseFloat((document.getElementById(latId) || {}).value);
  return Number.isFinite(lon) && Number.isFinite(lat) ? L.latLng(lat, lon) : null;
}

/** Add the two buttons and a status line to `map` if its element asks (data-map-tools). */
export function addMapTools(map, config) {
  const el = map.getContainer();
  if (!('mapTools' in el.dataset)) return;
  const words = config.messages;
  let say = null;
  let circle = null;
  function found(position) {
    const lat = position.coords.latitude, lon = position.coords.longitude;
    const accuracy = Math.round(position.coords.accuracy || 0);
    if (circle) circle.remove();
    circle = L.circle([lat, lon], { radius: accuracy, interactive: false, weight: 1,
      color: '#0969da', fillOpacity: 0.08 }).addTo(map);
    map.setView([lat, lon], Math.max(map.getZoom(), config.building_zoom), { animate: false });
    say(words.located.replace('{m}', String(accuracy)));
    el.dispatchEvent(new CustomEvent('wangge:pick', { detail: { lat, lon, accuracy_m: accuracy, source: 'locate' } }));
  }
  function failed(error) {
    say(error && error.code === 1 ? words.denied : words.unavailable);
  }
  function locate() {
    if (!('geolocation' in navigator)) { failed(null); return; }
    say(words.locating);
    navigator.geolocation.getCurrentPosition(found, failed,
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  function building() {
    const at = pickedPoint(el) || map.getCenter();
    map.setView(at, Math.max(map.getZoom(), config.building_zoom), { animate: false });
  }
  const Tools = L.Control.extend({
    options: { position: 'topleft' },
    onAdd() {
      const box = L.DomUtil.create('div', 'leaflet-bar wangge-map-tools');
      button(box, 'wangge-locate', words.locate, CROSSHAIR, locate);
      button(box, 'wangge-building-zoom', words.building, BUILDING, building);
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  new Tools().addTo(map); // under Leaflet's zoom buttons (their hook ran first)
  say = statusBox(map);
}
