// Ids minted on the phone.

function format(b) {
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// A random id (UUID v4): the device id, and ids that may reach a resident (a case, a photo).
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return format(b);
}

// A time-ordered id (UUID v7, RFC 9562 §5.7): the phone's clock in milliseconds in the first
// 48 bits, then 74 random bits. For the ids the server stores by the thousand in an index
// (each mutation's op id, visits, form answers): ids that follow each other land
// on the same index page, where random ones each dirty a page of their own (on SQLite, 1,000
// log rows took 4.5 ms to write instead of 6-21 ms as the log grew: docs/scaling.md). The
// time it carries is when the record was made, which the record holds anyway.
export function timeOrderedId(now = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Math.min(Math.max(0, Math.floor(now)), 2 ** 48 - 1);
  for (let i = 5; i >= 0; i -= 1) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return format(b);
}
