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

// --- the kind of matter: a category first (affairs before services), then its items; or a
// search over all of them by name, keyword or pinyin initials (works offline) ---
const search = document.getElementById('item-search');
const select = document.getElementById('catalogue_item_id');
const categoryPick = document.getElementById('category-pick');
const searchState = document.getElementById('search-state');
const notSure = select.querySelector('option[value=""]');
const groups = [...select.querySelectorAll('optgroup')];
const everyItem = groups.flatMap((g) => [...g.querySelectorAll('option')]);

function showItems(chosenGroups, filter) {
  const keep = select.value;
  const parts = [notSure];
  let first = null;
  for (const g of chosenGroups) {
    const hits = [...g.querySelectorAll('option')].filter(filter);
    if (!hits.length) continue;
    const copy = g.cloneNode(false);
    copy.append(...hits.map((o) => o.cloneNode(true)));
    parts.push(copy);
    first = first || hits[0];
  }
  select.replaceChildren(...parts);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  return first;
}

function byCategory() {
  const code = categoryPick.value;
  showItems(groups.filter((g) => g.dataset.category === code), () => true);
}

function matches(option, q) {
  return option.textContent.toLowerCase().includes(q)
    || (option.dataset.initials || '').includes(q)
    || (option.dataset.keywords || '').toLowerCase().includes(q);
}

if (categoryPick) {
  const chosen = everyItem.find((o) => o.selected && o.value);
  if (chosen) categoryPick.value = chosen.parentElement.dataset.category;
  document.getElementById('category-step').hidden = false;
  byCategory();
  categoryPick.addEventListener('change', () => { search.value = ''; searchState.hidden = true; byCategory(); });
}

search.addEventListener('input', () => {
  const q = search.value.trim().toLowerCase();
  if (!q) { searchState.hidden = true; byCategory(); return; }
  const first = showItems(groups, (o) => matches(o, q));
  const count = select.options.length - 1;
  searchState.hidden = false;
  searchState.textContent = count ? text('msg-found').replace('%n', count) : text('msg-none-found');
  if (first) {
    select.value = first.value;
    categoryPick.value = first.parentElement.dataset.category;
  }
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

// --- photos: shrunk on the phone before they are kept or sent; a photo this browser cannot
// open is named on the page and left out, never dropped without a word. Two inputs: the
// camera (`capture`: each shot adds one) and the album (a new pick replaces the last one). ---
const cameraInput = document.getElementById('photos-camera');
const photoInput = document.getElementById('photos');
const photoState = document.getElementById('photo-state');
const maxPhotos = Number(photoInput.dataset.max || 3);
let fromCamera = [];
let fromAlbum = [];
let shrunk = [];
// The browser's own file buttons speak the phone's language, not the page's: ours instead.
for (const [input, button] of [[cameraInput, 'camera-button'], [photoInput, 'photo-button']]) {
  input.classList.add('file-input');
  document.getElementById(button).hidden = false;
}

async function shrinkAll(files, problems) {
  const results = await Promise.all(files.map((f) => shrink(f).then(
    (p) => ({ ...p, name: f.name }),
    () => { problems.push(text('msg-photo-unreadable').replace('%s', f.name)); return null; },
  )));
  return results.filter(Boolean); // ArrayBuffers (never Blobs: WebKit refuses them in IndexedDB)
}

async function photosPicked(input) {
  const problems = [];
  const picked = await shrinkAll([...input.files], problems);
  input.value = '';
  if (input === cameraInput) fromCamera = [...fromCamera, ...picked];
  else fromAlbum = picked;
  const all = [...fromAlbum, ...fromCamera];
  problems.push(...all.slice(maxPhotos).map((p) => text('msg-photo-extra').replace('%s', p.name)));
  shrunk = all.slice(0, maxPhotos);
  photoState.hidden = !problems.length;
  photoState.textContent = problems.join(' ');
  const previews = document.getElementById('photo-previews');
  previews.replaceChildren(...shrunk.map((p) => Object.assign(document.createElement('img'), {
    src: URL.createObjectURL(new Blob([p.bytes], { type: 'image/jpeg' })), alt: p.name, title: p.name,
  })));
}
cameraInput.addEventListener('change', () => photosPicked(cameraInput));
photoInput.addEventListener('change', () => photosPicked(photoInput));

// --- send, or queue and resend ---
async function send(item) {
  const body = new FormData();
  for (const [k, v] of Object.entries(item.fields)) body.append(k, v);
  item.photos.forEach((bytes, i) => body.append('photos', new Blob([bytes], { type: 'image/jpeg' }), (item.names || [])[i] || `photo-${i + 1}.jpg`));
  const response = await fetch(form.action, { method: 'POST', body, headers: { Accept: 'application/json' } });
  const answer = await response.json();
  return { ok: response.ok, status: response.status, answer };
}

function showDone(answer) {
  // The follow page, told it is new: it asks the resident to keep the link (copy / save)
  // and says whether it was also texted to them.
  const url = new URL(answer.follow_url);
  url.searchParams.set('new', '1');
  if (answer.texted) url.searchParams.set('texted', '1');
  window.location.assign(url.toString());
}

// Sent quicker than the server accepts from a person: the button rests for the seconds it
// said, then works again (the message above says how long).
function holdButton(seconds) {
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  setTimeout(() => { button.disabled = false; }, seconds * 1000);
}

// --- where an unsent report waits: IndexedDB when this browser has it (in-app browsers and
// private modes may not); otherwise this page's memory, and its text in localStorage, so a
// closed page gives the words back next time. Nothing typed is ever thrown away. ---
let unkept = null;         // the report waiting in memory when IndexedDB refused it
const DRAFT = 'wangge-report-draft';

function keepDraft(fields) {
  try { localStorage.setItem(DRAFT, JSON.stringify(fields)); } catch { /* no storage: the page keeps it */ }
}

function dropDraft() {
  try { localStorage.removeItem(DRAFT); } catch { /* nothing kept */ }
}

function restoreDraft() {
  let fields = null;
  try { fields = JSON.parse(localStorage.getItem(DRAFT) || 'null'); } catch { fields = null; }
  if (!fields || typeof fields !== 'object') return;
  for (const name of ['description', 'address', 'name', 'phone', 'catalogue_item_id', 'lon', 'lat', 'client_id']) {
    const field = form.elements[name];
    if (field && !field.value && typeof fields[name] === 'string') field.value = fields[name];
  }
  if (fields.disclosure) {
    const radio = form.querySelector(`input[name=disclosure][value="${CSS.escape(fields.disclosure)}"]`);
    if (radio) radio.checked = true;
  }
  say(text('msg-draft-back'));
}

async function waiting() {
  try {
    return [...await queueAll(), ...(unkept ? [unkept] : [])];
  } catch {
    // No IndexedDB here: the promise under the button must not claim the phone keeps it.
    document.getElementById('offline-hint').textContent = text('msg-no-storage-hint');
    return unkept ? [unkept] : [];
  }
}

async function forget(item) {
  if (item === unkept) { unkept = null; dropDraft(); return; }
  try { await queueDel(item.client_id); } catch { /* already gone */ }
}

export async function flush() {
  for (const item of await waiting()) {
    let result;
    try {
      result = await send(item);
    } catch {
      say(text(item === unkept ? 'msg-not-kept' : 'msg-queued'));
      state.scrollIntoView({ block: 'center' });
      return; // still offline: try again on the next 'online' event
    }
    await forget(item);
    if (result.ok) { showDone(result.answer); return; }
    say(result.answer.detail || '');
    state.scrollIntoView({ block: 'center' });
    if (result.answer.retry_after_s) holdButton(result.answer.retry_after_s);
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const clientId = document.getElementById('client_id').value || newClientId();
  document.getElementById('client_id').value = clientId;
  const fields = Object.fromEntries([...new FormData(form)].filter(([, v]) => typeof v === 'string'));
  const item = { client_id: clientId, fields, photos: shrunk.map((p) => p.bytes), names: shrunk.map((p) => p.name), queued_at: Date.now() };
  try {
    await queuePut(item);
    unkept = null;
  } catch {
    unkept = item; // this browser cannot keep it: the page does, and the text goes to localStorage
    keepDraft(fields);
  }
  say(text('msg-sending'));
  await flush();
});

window.addEventListener('online', flush);
restoreDraft();
flush();
