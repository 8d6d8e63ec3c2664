// A small tus 1.0.0 client (core, creation, checksum sha1, termination) for photo bytes.
// Resumable: the upload URL and offset are kept in IndexedDB, so a cut link, a reload or a
// browser restart continues from the server's offset (HEAD) instead of starting over.
import { tx, req, get } from './db.js';
import { authHeaders, Offline } from './api.js';

const ENDPOINT = '/api/v1/uploads/';
export const CHUNK_BYTES = 256 * 1024; // suits weak 2G/4G links (research note §2.6)
const TUS = { 'Tus-Resumable': '1.0.0' };

const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const b64bytes = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));

async function call(url, init) {
  try {
    return await fetch(url, { ...init, cache: 'no-store', headers: { ...TUS, ...(await authHeaders()), ...init.headers } });
  } catch (error) {
    throw new Offline(String(error));
  }
}

async function save(sha256, patch) {
  return tx('photos', 'readwrite', async (s) => {
    const row = await req(s.photos.get(sha256));
    if (row) s.photos.put({ ...row, ...patch });
    return row ? { ...row, ...patch } : null;
  });
}

export class UploadFailed extends Error {
  constructor(status, code) { super(`upload failed: ${status} ${code || ''}`); this.status = status; this.code = code; }
}

async function create(photo) {
  const response = await call(ENDPOINT, {
    method: 'POST',
    headers: {
      'Upload-Length': String(photo.bytes.byteLength),
      'Upload-Metadata': `sha256 ${b64(photo.sha256)},mime ${b64(photo.mime)}`,
    },
  });
  if (response.status !== 201) throw new UploadFailed(response.status, await code(response));
  const url = new URL(response.headers.get('Location'), location.href).pathname;
  const offset = Number(response.headers.get('Upload-Offset') || 0); // dedupe: already complete
  return save(photo.sha256, { upload_url: url, offset, upload_state: 'uploading' });
}

async function code(response) {
  try { return (await response.json()).code; } catch { return null; }
}

async function serverOffset(url) {
  const response = await call(url, { method: 'HEAD' });
  if (response.status === 404 || response.status === 410) return null; // expired or gone: start anew
  if (!response.ok) throw new UploadFailed(response.status);
  return Number(response.headers.get('Upload-Offset'));
}

/**
 * Send one photo's bytes; resolves when the server holds all of them.
 * onProgress(fraction) is called after every chunk. Throws Offline when the link drops
 * (the next sync resumes), UploadFailed for answers that a retry will not fix.
 */
export async function uploadPhoto(sha256, onProgress = () => {}) {
  let photo = await get('photos', sha256);
  if (!photo || photo.upload_state === 'uploaded') return;
  const total = photo.bytes.byteLength;
  if (photo.upload_url) {
    const offset = await serverOffset(photo.upload_url);
    photo = offset === null
      ? await save(sha256, { upload_url: null, offset: 0 })
      : await save(sha256, { offset });
  }
  if (!photo.upload_url) photo = await create(photo);
  let checksumFailures = 0;
  while (photo.offset < total) {
    onProgress(photo.offset / total);
    const chunk = photo.bytes.slice(photo.offset, Math.min(total, photo.offset + CHUNK_BYTES));
    const sha1 = await crypto.subtle.digest('SHA-1', chunk);
    const response = await call(photo.upload_url, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(photo.offset),
        'Upload-Checksum': `sha1 ${b64bytes(sha1)}`,
      },
      body: chunk,
    });
    if (response.status === 204) {
      photo = await save(sha256, { offset: Number(response.headers.get('Upload-Offset')) });
    } else if (response.status === 409) {           // our offset was stale: ask and resume
      const offset = await serverOffset(photo.upload_url);
      photo = await save(sha256, offset === null ? { upload_url: null, offset: 0 } : { offset });
      if (!photo.upload_url) photo = await create(photo);
    } else if (response.status === 460 && ++checksumFailures < 3) {
      continue;                                      // chunk damaged on the way: send it again
    } else if (response.status === 404 || response.status === 410) {
      photo = await create(await save(sha256, { upload_url: null, offset: 0 }));
    } else {
      throw new UploadFailed(response.status, await code(response));
    }
  }
  await save(sha256, { upload_state: 'uploaded', uploaded_at: new Date().toISOString() });
  onProgress(1);
}
