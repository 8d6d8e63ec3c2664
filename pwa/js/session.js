// The device session: log in online once; the token stays in IndexedDB so the worker stays
// signed in offline. Logging out clears every local record of people (after a warning).
import { kvGet, kvSet, wipe } from './db.js';
import { getJSON, request } from './api.js';
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
  const session = { token: body.token, device_id: body.device_id, user: body.user, signed_in_at: new Date().toISOString() };
  await kvSet('session', session);
  await kvSet('session_expired', false);
  return session;
}

/** Revoke the token if we can reach the server, then delete everything local. */
export async function logout() {
  try {
    await request('/api/v1/auth/token', { method: 'DELETE' });
  } catch { /* offline: the office can revoke the device; local data goes anyway */ }
  await wipe();
}
