// Photos: decode with EXIF orientation, shrink to ≤ 1600 px on the long edge (and under iOS's
// 16,777,216-pixel canvas limit), encode JPEG ~0.8, hash the final bytes, keep them in
// IndexedDB as an ArrayBuffer + MIME type (Blobs in IndexedDB break on WebKit; §3.4).
import { put } from './db.js';
import { currentFix } from './geo.js';

export const MAX_EDGE_PX = 1600;
export const IOS_CANVAS_MAX_PX = 16777216;
const QUALITY = 0.8;

export function targetSize(width, height) {
  let scale = Math.min(1, MAX_EDGE_PX / Math.max(width, height));
  if (width * scale * height * scale > IOS_CANVAS_MAX_PX) scale = Math.sqrt(IOS_CANVAS_MAX_PX / (width * height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    // Older Safari: no options support. An <img> applies EXIF orientation itself (iOS ≥ 13.4).
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

function encode(canvas) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error('encode failed'))), 'image/jpeg', QUALITY));
}

export async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest('SHA-256', buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Shrink one picked file to JPEG bytes (shared with the residents' report page). */
export async function shrink(file) {
  const image = await decode(file);
  const [w, h] = targetSize(image.width, image.height);
  const canvas = typeof OffscreenCanvas !== 'undefined'
    ? new OffscreenCanvas(w, h)
    : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0, w, h);
  if (image.close) image.close();
  const bytes = await (await encode(canvas)).arrayBuffer();
  return { bytes, width: w, height: h };
}

/** Shrink, hash and store one picked file; resolves to the stored row (without re-reading). */
export async function capture(file, { lon = null, lat = null, accuracy_m = null } = {}) {
  const { bytes, width: w, height: h } = await shrink(file);
  const row = {
    sha256: await sha256Hex(bytes), bytes, mime: 'image/jpeg', width: w, height: h,
    size: bytes.byteLength, lon, lat, accuracy_m, captured_at_device: new Date().toISOString(),
    upload_state: 'waiting', upload_url: null, offset: 0,
  };
  await put('photos', row);
  return row;
}

/** A form's photo question (forms/render.js `photoId`): stored where the phone is now; the id. */
export async function captureHere(file) {
  const fix = currentFix();
  return (await capture(file, fix ? { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m } : {})).sha256;
}

/** An object URL for showing a stored photo (the Blob is rebuilt on read, never stored). */
export function objectUrl(row) {
  return URL.createObjectURL(new Blob([row.bytes], { type: row.mime }));
}
