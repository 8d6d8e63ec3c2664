// Push the outbox, send photo bytes, pull the worker's data (docs/sync-protocol.md).
// Runs on app open, `online`, `visibilitychange`, a timer while open, the "立即同步" button,
// and Background Sync where the browser has it; the outbox never depends on any one of them.
import { tx, req, kvGet, kvSet, all, PULLED } from './db.js';
import { getJSON, Offline, HttpError } from './api.js';
import { renewIfDue } from './session.js';
import * as outbox from './outbox.js';
import { uploadPhoto, UploadFailed } from './upload.js';
import { refreshLayers } from './map-layers.js';

export const SCHEMA_VERSION = 1;

/** The server does not know this device (wiped there): sign in again; the outbox is kept. */
class DeviceReset extends Error {}
/** The server refused to renew the token: sign in with the password; the outbox is kept. */
class SignInNeeded extends Error {}
const PUSH_BATCH = 100;
const PULL_LIMIT = 500;
const TIMER_MS = 2 * 60 * 1000;
// The timer's period can be shortened for tests and support only through the kv setting
// `sync_timer_ms` (read at start-up; never below one second); nothing in the app writes it.
const TIMER_MIN_MS = 1000;

export const status = { running: false, lastSuccessAt: null, lastError: null, progress: {} };
const listeners = new Set();
export const onStatus = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
const emit = () => listeners.forEach((fn) => fn(status));

let current = null;

/** Run one full sync (or join the one running). Resolves to true on success. */
export function syncNow() {
  if (!current) current = runSync().finally(() => { current = null; });
  return current;
}

/** For triggers that mean "now it may work" (back online, back in view): a sync already
 * running may have started before the network came back, so if it fails, run once more. */
function syncAfterCurrent() {
  return current ? current.then((ok) => ok || syncNow()) : syncNow();
}

/** True while a push is in flight: the update prompt must not reload then. */
export const isBusy = () => status.running;

async function runSync() {
  const session = await kvGet('session');
  if (!session) return false;
  status.running = true;
  status.lastError = null;
  emit();
  try {
    if (!(await renewWhenDue())) throw new SignInNeeded();
    try {
      await exchange(session);
    } catch (error) {
      // Expired while the phone was off (or revoked): one renewal, then the sync once more.
      if (!(error instanceof HttpError && error.status === 401)) throw error;
      if (!(await renewIfDue({ force: true }))) throw new SignInNeeded();
      await exchange(session);
    }
    status.lastSuccessAt = new Date().toISOString();
    await kvSet('last_sync_at', status.lastSuccessAt);
    return true;
  } catch (error) {
    status.lastError = describe(error);
    const signedOut = (error instanceof HttpError && error.status === 401) || error instanceof DeviceReset || error instanceof SignInNeeded;
    if (signedOut) await kvSet('session_expired', true);
    if (!(error instanceof Offline) && !(error instanceof HttpError) && !signedOut) console.warn('sync failed', error);
    return false;
  } finally {
    status.running = false;
    emit();
  }
}

/** The token's renewal when due; a renewal that cannot be made now (offline, server busy)
 * leaves the old token, still valid for hours, to the sync. */
async function renewWhenDue() {
  try {
    return await renewIfDue();
  } catch (error) {
    if (error instanceof Offline || error instanceof HttpError) return true;
    throw error;
  }
}

async function exchange(session) {
  await push(session);
  await uploadPhotos();
  await pull(session);
  await pullLayers();
  await push(session); // anything saved while we pulled
}

function describe(error) {
  if (error instanceof Offline) return 'offline';
  if (error instanceof DeviceReset || error instanceof SignInNeeded) return 'signed_out';
  if (error instanceof HttpError) {
    if (error.status === 401) return 'signed_out';
    if (error.status === 409) return 'upgrade_required';
    if (error.status >= 500) return 'server_busy';
    return `http_${error.status}`;
  }
  return 'error';
}

async function push(session) {
  for (let round = 0; round < 1000; round++) {
    const entries = (await outbox.pending()).slice(0, PUSH_BATCH);
    if (!entries.length) return;
    const body = {
      device_id: session.device_id,
      schema_version: SCHEMA_VERSION,
      device_now: new Date().toISOString(),
      mutations: entries.map((e) => ({
        seq: e.seq, op_id: e.op_id, name: e.name, args: e.args,
        recorded_at_device: e.recorded_at_device,
        ...(e.base_version != null ? { base_version: e.base_version } : {}),
      })),
    };
    const reply = await getJSON('/api/v1/sync/push', { method: 'POST', json: body });
    if (reply.reset) throw new DeviceReset(reply.reset); // the server forgot this device
    const moved = await outbox.acknowledge(reply.last_seq, reply.results || []);
    if (reply.expected != null && reply.expected > entries[0].seq) continue;
    if (!moved || reply.retry) return; // nothing advanced: try again at the next trigger
  }
}

async function uploadPhotos() {
  const photos = (await all('photos')).filter((p) => p.upload_state !== 'uploaded' && p.upload_state !== 'failed');
  for (const photo of photos) {
    try {
      await uploadPhoto(photo.sha256, (fraction) => {
        status.progress[photo.sha256] = fraction;
        emit();
      });
      delete status.progress[photo.sha256];
    } catch (error) {
      if (!(error instanceof UploadFailed)) throw error;   // offline: stop, resume next time
      if (error.status === 401) throw new HttpError(401, null); // the token, not the photo: renew
      await tx('photos', 'readwrite', async (s) => {
        const row = await req(s.photos.get(photo.sha256));
        s.photos.put({ ...row, upload_state: 'failed', error: error.code || String(error.status) });
      });
    }
    emit();
  }
}

function changesOf(body) {
  // The contract sends a flat list [{table, op, id, version, data}] in server order.
  if (Array.isArray(body.changes)) return body.changes;
  const flat = [];
  for (const [table, ops] of Object.entries(body.changes || {})) {
    for (const row of ops.upsert || []) flat.push({ table, op: 'upsert', id: row.id, version: row.version, data: row });
    for (const id of ops.delete || []) flat.push({ table, op: 'delete', id });
  }
  return flat;
}

async function apply(changes) {
  const stores = [...new Set(changes.map((c) => c.table).filter((t) => PULLED.includes(t)))];
  if (!stores.length) return;
  await tx(stores, 'readwrite', (s) => {
    for (const c of changes) {
      if (!s[c.table]) continue;
      if (c.op === 'delete') s[c.table].delete(c.id);
      else s[c.table].put({ ...(c.data || {}), id: c.id, version: c.version });
    }
  });
}

async function clearPulled() {
  await tx(PULLED, 'readwrite', (s) => { for (const store of Object.values(s)) store.clear(); });
}

async function pull(session) {
  let cursor = await kvGet('cursor');
  for (let page = 0; page < 10000; page++) {
    const query = new URLSearchParams({ limit: String(PULL_LIMIT) }); // the device comes from the token
    if (cursor) query.set('cursor', cursor);
    const body = await getJSON(`/api/v1/sync/pull?${query}`);
    if (body.reset) {                 // our cursor can no longer be answered: start over
      await clearPulled();
      cursor = null;
      await kvSet('cursor', null);
      if (page > 3) return;
      continue;
    }
    const changes = changesOf(body);
    await apply(changes);
    if (body.reference) await kvSet('reference', body.reference);
    if (body.last_seq != null) await outbox.acknowledge(body.last_seq);
    for (const c of changes) {
      if (c.table === 'rejections' && c.op === 'upsert' && c.data) await outbox.markRejected(c.data.seq, c.data);
    }
    await requeueMissing(body.missing_photos || body.missing_blobs || []);
    cursor = body.cursor || cursor;
    await kvSet('cursor', cursor);
    if (!body.has_more) break;
  }
  outbox.changed();
}

/** The base layers around the cells, when their version changed (304 otherwise). A server
 * without them, or refusing them, costs the map its streets, never the sync. */
async function pullLayers() {
  try {
    await refreshLayers();
  } catch (error) {
    if (!(error instanceof HttpError) || error.status === 401) throw error;
    console.warn('base layers not pulled', error.status);
  }
}

/** The server lost or never got these bytes: send them again if we still hold them. */
async function requeueMissing(hashes) {
  if (!hashes.length) return;
  await tx('photos', 'readwrite', async (s) => {
    for (const sha of hashes) {
      const row = await req(s.photos.get(sha));
      if (row && row.upload_state === 'uploaded') s.photos.put({ ...row, upload_state: 'waiting', upload_url: null, offset: 0 });
    }
  });
}

/** Wire every trigger. Call once at start-up. */
export function startTriggers() {
  addEventListener('online', () => syncAfterCurrent());
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') syncAfterCurrent(); });
  // The timer is what keeps a phone without Background Sync (Safari, Firefox) sending while
  // the app stays open and visible with no network change.
  kvGet('sync_timer_ms').catch(() => null).then((override) => {
    const period = Number.isFinite(override) ? Math.max(TIMER_MIN_MS, override) : TIMER_MS;
    setInterval(() => { if (document.visibilityState === 'visible') syncNow(); }, period);
  });
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('message', (event) => {
      if (event.data && event.data.type === 'sync') {
        syncNow().then((ok) => event.source && event.source.postMessage({ type: 'sync-done', ok }));
      }
    });
  }
  outbox.onChange(registerBackgroundSync);
  kvGet('last_sync_at').then((at) => { status.lastSuccessAt = status.lastSuccessAt || at; emit(); });
}

/** An extra wake-up where the browser has Background Sync (Chromium only; §3.1). */
async function registerBackgroundSync() {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (reg && reg.sync) await reg.sync.register('wangge-sync');
  } catch { /* not allowed here (e.g. no permission): the other triggers still run */ }
}
