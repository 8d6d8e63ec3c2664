// Storage durability: ask for persistence after the first saved record, report usage.
import { kvSet } from './db.js';
import { isIOS, isStandalone } from './browser-check.js';

let asked = false;

/** Can this browser be asked to keep our storage at all? (Older Safari, some webviews: no.) */
export const persistenceSupported = () =>
  Boolean(navigator.storage && navigator.storage.persist && navigator.storage.persisted);

/** Ask once per page load on our own (after the first saved record); `force` for the button. */
export async function requestPersistence(force = false) {
  if ((asked && !force) || !persistenceSupported()) return false;
  asked = true;
  try {
    if (await navigator.storage.persisted()) return true;
    const granted = await navigator.storage.persist();
    // A "no" is remembered: the banner then says so instead of offering the same button.
    await kvSet('persist_refused_at', granted ? null : Date.now());
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
  return isIOS() && !isStandalone();
}

export function formatBytes(n) {
  if (n == null) return '?';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
