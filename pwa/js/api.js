// HTTP to the Wangge server: bearer token, JSON, and one error type for "try again later".
import { kvGet } from './db.js';

export class Offline extends Error {}          // no answer at all (no signal, server down)
export class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function authHeaders() {
  const session = await kvGet('session');
  return session ? { Authorization: `Bearer ${session.token}` } : {};
}

/** fetch() that turns "no network" into Offline and non-2xx into HttpError (with its JSON). */
export async function request(path, { method = 'GET', json, headers = {}, body, signal } = {}) {
  const init = { method, headers: { ...(await authHeaders()), ...headers }, signal, cache: 'no-store' };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new Offline(String(error));
  }
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    throw new HttpError(response.status, data);
  }
  return response;
}

export async function getJSON(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}
