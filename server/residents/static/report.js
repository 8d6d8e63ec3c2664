// The residents' report page: find the matter, place it, shrink photos (the worker app's
// photo.js), and send; when the connection drops, keep the report in IndexedDB and resend
// it when back online. The server files a resend of the same client_id only once.
import { shrink } from '/app/js/photo.js';
import { queueAll, queuePut, queueDel } from './queue.js';

const form = document.getElementById('report-form');
const state = document.getElementById('queue-state');
const text = (id) => document.getElementById(id).content.textContent.trim();

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function say(message) {
  state.hidden = !message;
  state.textContent = message || '';
}

// --- catalogue search: filter the list locally (works offline), by name or pinyin initials ---
const search = document.getElementById('item-search');
const select = document.getElementById('catalogue_item_id');
search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  let first = null;
  for (const option of select.querySelectorAll('option[value]:not([value=""])')) {
    const hit = !q || option.textContent.toLowerCase().includes(q) || (option.dataset.initials || '').includes(q);
    option.hidden = !hit;
    if (hit && !first) first = option;
  }
  if (q && first) select.value = first.value;
});

// --- map: published cells' outlines, no tile server needed; tap, locate me, or an address ---
// Points are WGS-84 everywhere here; on GCJ-02 tiles map-tiles.js shifts only the drawing.
const mapEl = document.getElementById('report-map');
let placeOnMap = () => {};
if (window.L && mapEl) {
  let marker = null;
  const map = L.map(mapEl, { zoomControl: true, attributionControl: false, zoomSnap: 0.25 }).setView([31.2075, 121.4235], 15);
  fetch(mapEl.dataset.cells).then((r) => r.json()).then((cells) => {
    const F = window.wanggeMapFeatures; // map-features.js: one feature at a time
    const layer = F.addFeatures(map, L.geoJSON(null, { style: { color: '#0969da', weight: 1, fillOpacity: 0.05 } }), cells).addTo(map);
    if (layer.getLayers().length && !marker) map.fitBounds(layer.getBounds(), { animate: false });
    mapEl.dataset.cellsDrawn = String(layer.getLayers().length);
  }).catch(() => {});
  placeOnMap = (lat, lon, zoom) => {
    document.getElementById('lat').value = lat.toFixed(6);
    document.getElementById('lon').value = lon.toFixed(6);
    marker = marker ? marker.setLatLng([lat, lon]) : L.marker([lat, lon]).addTo(map);
    if (zoom) map.setView([lat, lon], Math.max(map.getZoom(), zoom), { animate: false });
    document.getElementById('place-state').textContent = text('msg-placed');
  };
  map.on('click', (event) => placeOnMap(event.latlng.lat, event.latlng.lng));
  mapEl.addEventListener('wangge:pick', (event) => placeOnMap(event.detail.lat, event.detail.lon));
}
const BUILDING_ZOOM = (window.wanggeMapTools && window.wanggeMapTools.buildingZoom) || 18;

// --- address search against known buildings: a typed known address places the map there ---
const address = document.getElementById('address');
const options = document.getElementById('address-options');
let places = [];
function placeKnown() {
  const match = places.find((p) => p.address === address.value.trim());
  if (match && Number.isFinite(match.lat) && Number.isFinite(match.lon)) placeOnMap(match.lat, match.lon, BUILDING_ZOOM);
  return Boolean(match);
}
address.addEventListener('input', async () => {
  if (placeKnown()) return;
  if (address.value.trim().length < 2 || !navigator.onLine) return;
  try {
    places = await (await fetch(`places.json?q=${encodeURIComponent(address.value.trim())}`)).json();
    options.replaceChildren(...places.map((p) => Object.assign(document.createElement('option'), { value: p.address })));
    placeKnown();
  } catch { /* offline: the typed address is sent as it is */ }
});

// --- photos: shrunk on the phone before they are kept or sent ---
const photoInput = document.getElementById('photos');
let shrunk = [];
photoInput.addEventListener('change', async () => {
  const files = [...photoInput.files].slice(0, 3);
  shrunk = await Promise.all(files.map((f) => shrink(f)));
  const previews = document.getElementById('photo-previews');
  previews.replaceChildren(...shrunk.map((p) => Object.assign(document.createElement('img'), {
    src: URL.createObjectURL(new Blob([p.bytes], { type: 'image/jpeg' })), alt: '',
  })));
});

// --- send, or queue and resend ---
async function send(item) {
  const body = new FormData();
  for (const [k, v] of Object.entries(item.fields)) body.append(k, v);
  item.photos.forEach((bytes, i) => body.append('photos', new Blob([bytes], { type: 'image/jpeg' }), `photo-${i}.jpg`));
  const response = await fetch(form.action, { method: 'POST', body, headers: { Accept: 'application/json' } });
  const answer = await response.json();
  return { ok: response.ok, status: response.status, answer };
}

function showDone(answer) {
  const main = document.querySelector('.resident');
  main.replaceChildren();
  const h1 = Object.assign(document.createElement('h1'), { textContent: answer.number });
  const link = Object.assign(document.createElement('a'), { href: answer.follow_url, textContent: answer.follow_url, id: 'follow-link' });
  const p = document.createElement('p');
  p.className = 'follow-link';
  p.append(link);
  main.append(h1, p);
  window.location.assign(answer.follow_url);
}

export async function flush() {
  for (const item of await queueAll()) {
    let result;
    try {
      result = await send(item);
    } catch {
      say(text('msg-queued'));
      return; // still offline: try again on the next 'online' event
    }
    await queueDel(item.client_id);
    if (result.ok) { showDone(result.answer); return; }
    say(result.answer.detail || '');
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const clientId = document.getElementById('client_id').value || newClientId();
  document.getElementById('client_id').value = clientId;
  const fields = Object.fromEntries([...new FormData(form)].filter(([, v]) => typeof v === 'string'));
  await queuePut({ client_id: clientId, fields, photos: shrunk.map((p) => p.bytes), queued_at: Date.now() });
  say(text('msg-sending'));
  await flush();
});

window.addEventListener('online', flush);
flush();
