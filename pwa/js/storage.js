// Storage durability: ask for persistence after the first saved record, report usage.
let asked = false;

/** Ask once per page load on our own (after the first saved record); `force` for the button. */
export async function requestPersistence(force = false) {
  if ((asked && !force) || !navigator.storage || !navigator.storage.persist) return false;
  asked = true;
  try {
    if (await navigator.storage.persisted()) return true;
    const granted = await navigator.storage.persist();
    document.dispatchEvent(new CustomEvent('wangge:persistence', { detail: granted }));
    return granted;
  } catch {
    return false;
  }
}

export async function isPersisted() {
  try {
    return navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : false;
  } catch {
    return false;
  }
}

/** {usage, quota} in bytes, or null where the browser does not say. */
export async function estimate() {
  try {
    return navigator.storage && navigator.storage.estimate ? await navigator.storage.estimate() : null;
  } catch {
    return null;
  }
}

/** iOS Safari outside the Home Screen: storage is evicted after 7 days without use. */
export function iosNeedsHomeScreen() {
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent)
    || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  return ios && !navigator.standalone && !matchMedia('(display-mode: standalone)').matches;
}

export function formatBytes(n) {
  if (n == null) return '?';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
