// The report page's outbox: one IndexedDB store of reports not yet acknowledged. Where this
// browser has no working IndexedDB every call rejects, and report.js keeps the report itself.
const NAME = 'wangge-residents';
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      // Some in-app browsers never answer an open: after 3 s the page keeps the report itself.
      const timer = setTimeout(() => reject(new Error('IndexedDB did not open')), 3000);
      const req = indexedDB.open(NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('queue', { keyPath: 'client_id' });
      req.onsuccess = () => { clearTimeout(timer); resolve(req.result); };
      req.onerror = () => { clearTimeout(timer); reject(req.error); };
    });
    // A failed open is not kept: the next call tries again (a storage hiccup, a closed tab).
    opening.catch(() => { opening = null; });
  }
  return opening;
}

async function run(mode, body) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('queue', mode);
    const req = body(tx.objectStore('queue'));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}

export const queueAll = () => run('readonly', (s) => s.getAll());
export const queuePut = (item) => run('readwrite', (s) => s.put(item));
export const queueDel = (id) => run('readwrite', (s) => s.delete(id));
