// IndexedDB, opened once and shared by every module; versioned upgrades; reopen + retry once
// when the browser closed the connection (WebKit drops it after backgrounding: Dexie.js#2008).
const NAME = 'wangge';
const VERSION = 2;

// Pulled tables (server data in the worker's scope), keyed by the server's id.
const PULLED_V1 = ['cells', 'catalogue_items', 'households', 'residents', 'cases',
  'visits', 'conflicts', 'rejections'];
// v2: campaigns and their forms (docs/sync-protocol.md §Campaigns and forms in the pull).
const PULLED_V2 = ['campaigns', 'campaign_targets', 'form_versions', 'form_answers', 'care_tags'];
export const PULLED = [...PULLED_V1, ...PULLED_V2];

const UPGRADES = [
  // v1: the first schema. Never edit a step once shipped; add a new one.
  (db) => {
    db.createObjectStore('kv');                          // session, device id, cursors, settings
    db.createObjectStore('outbox', { keyPath: 'seq' });  // mutations not yet acknowledged
    db.createObjectStore('journal', { keyPath: 'seq' }); // acknowledged: synced or rejected
    db.createObjectStore('photos', { keyPath: 'sha256' }); // bytes (ArrayBuffer, never Blob)
    for (const name of PULLED_V1) db.createObjectStore(name, { keyPath: 'id' });
  },
  // v2: the campaign tables; every v1 store and its rows stay as they were.
  (db) => {
    for (const name of PULLED_V2) db.createObjectStore(name, { keyPath: 'id' });
  },
];

let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = (event) => {
        for (let v = event.oldVersion; v < VERSION; v++) UPGRADES[v](req.result);
      };
      req.onsuccess = () => {
        const db = req.result;
        db.onclose = () => { opening = null; };           // closed by the browser
        db.onversionchange = () => { db.close(); opening = null; }; // a newer tab upgrades
        resolve(db);
      };
      req.onerror = () => { opening = null; reject(req.error); };
      req.onblocked = () => console.warn('IndexedDB upgrade blocked by another tab');
    });
  }
  return opening;
}

function closedError(error) {
  return error && (error.name === 'InvalidStateError' || /closing|closed|lost/i.test(error.message));
}

function run(db, stores, mode, body) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onabort = tx.onerror = () => reject(tx.error);
    const list = typeof stores === 'string' ? [stores] : stores;
    const handles = Object.fromEntries(list.map((s) => [s, tx.objectStore(s)]));
    Promise.resolve(body(handles, tx)).then((r) => { result = r; }, (e) => { tx.abort(); reject(e); });
  });
}

/** Run `body({store: IDBObjectStore})` in one transaction; resolves with its result. */
export async function tx(stores, mode, body) {
  try {
    return await run(await open(), stores, mode, body);
  } catch (error) {
    if (!closedError(error)) throw error;
    opening = null; // the connection died under us: open again and retry once
    return run(await open(), stores, mode, body);
  }
}

/** An IDBRequest as a promise (for use inside `tx` bodies). */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export const get = (store, key) => tx(store, 'readonly', (s) => req(s[store].get(key)));
export const all = (store) => tx(store, 'readonly', (s) => req(s[store].getAll()));
export const count = (store) => tx(store, 'readonly', (s) => req(s[store].count()));
export const put = (store, value, key) =>
  tx(store, 'readwrite', (s) => req(key === undefined ? s[store].put(value) : s[store].put(value, key)));
export const del = (store, key) => tx(store, 'readwrite', (s) => req(s[store].delete(key)));

export const kvGet = (key) => get('kv', key);
export const kvSet = (key, value) => put('kv', value, key);

/** Delete every store's contents (logout). */
export async function wipe() {
  const db = await open();
  await tx([...db.objectStoreNames], 'readwrite', (s) => {
    for (const store of Object.values(s)) store.clear();
  });
}
