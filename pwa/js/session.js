// The device session: log in online once; the token stays in IndexedDB so the worker stays
// signed in offline. Logging out clears every local record of people (after a warning).
// Tokens live a day (docs/security.md): the sync renews them without the password once half
// the lifetime is gone; only a refused renewal sends the worker back to the sign-in screen.
import { kvGet, kvSet, wipe } from './db.js';
import { getJSON, request, HttpError } from './api.js';
import { uuid } from './uuid.js';

export const current = () => kvGet('session');

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /MicroMessenger/.test(ua) ? 'WeChat' : /Edg\//.test(ua) ? 'Edge'
    : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /Firefox\//.test(ua) ? 'Firefox' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : 'Other';
  return `${os} (${browser})`;
}

/** Sign in; keeps the device id across sign-ins of the same person so seq numbers continue. */
export async function login(username, password) {
  const previous = await kvGet('session');
  if (previous && previous.user.username !== username && (await kvGet('next_seq') || 1) > 1) {
    const error = new Error('other_user_data');
    error.code = 'other_user_data';
    throw error;
  }
  let deviceId = await kvGet('device_id');
  if (!deviceId) {
    deviceId = uuid();
    await kvSet('device_id', deviceId);
  }
  const body = await getJSON('/api/v1/auth/token', {
    method: 'POST', json: { username, password, device_id: deviceId, device_name: deviceName() },
  });
  const session = { token: body.token, device_id: body.device_id, user: body.user, signed_in_at: new Date().toISOString(), ...timing(body) };
  await kvSet('session', session);
  await kvSet('session_expired', false);
  return session;
}

/** When to renew, by this phone's own clock (its date may be wrong; elapsed time is not). */
function timing(body) {
  const lifetimeMs = (Number.isFinite(body.expires_in) ? body.expires_in : 86400) * 1000;
  return { renew_after: Date.now() + lifetimeMs / 2 };
}

/** Renew the token without the password when half its life is gone (or `force`, after a 401).
 * Resolves true when the session holds a usable token (renewed, or not due yet), false when
 * the server refused (sign in with the password); throws Offline or HttpError otherwise, and
 * the old token is kept for the next try. */
export async function renewIfDue({ force = false } = {}) {
  const session = await kvGet('session');
  if (!session) return false;
  if (!force && session.renew_after && Date.now() < session.renew_after) return true;
  let body;
  try {
    body = await getJSON('/api/v1/auth/token/renew', { method: 'POST', json: { token: session.token } });
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 401) throw error;
    const now = await kvGet('session');   // another tab of the app may have renewed it first
    return Boolean(now && now.token !== session.token);
  }
  // The answer is stored before anything else runs: a lost answer is retried with the old token.
  await kvSet('session', { ...session, token: body.token, user: body.user, renewed_at: new Date().toISOString(), ...timing(body) });
  await kvSet('session_expired', false);
  return true;
}

/** Revoke the token if we can reach the server, then delete everything local. */
export async function logout() {
  try {
    await request('/api/v1/auth/token', { method: 'DELETE' });
  } catch { /* offline: the office can revoke the device; local data goes anyway */ }
  await wipe();
}
