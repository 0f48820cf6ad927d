// api.js: the one way pages talk to the appliance. Adds the x-csrf-token header to every
// state-changing call and turns error answers ({"error","message"}) into ApiError with a
// message a person can act on.

/** An error answer of the admin API, or a failure to reach it. */
export class ApiError extends Error {
  constructor(status, code, message, body = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// Used only when an answer carries no message of its own (a proxy page, a crash).
const FALLBACK = {
  csrf: 'The page is out of date. Reload it and try again.',
  session_expired: 'Your session has expired. Sign in again.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  network: 'The appliance could not be reached. Check the network and try again.',
};

function fallbackMessage(status, code) {
  if (FALLBACK[code]) return FALLBACK[code];
  if (status >= 500) return `The appliance reported an internal error (HTTP ${status}). Check the events page.`;
  return `The request failed (HTTP ${status}).`;
}

/** Parses `filename="..."` from a content-disposition header. */
export function fileNameFrom(disposition, fallback) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || '');
  const name = match ? decodeURIComponent(match[1]) : fallback;
  // A file name is only a suggestion to the browser; strip anything path-like.
  return name.replace(/[\\/]/g, '_');
}

/**
 * Creates the API client. `onSessionExpired` runs when the server says the session is gone,
 * so the app can show the sign-in form and come back.
 */
export function createApi({ onSessionExpired = () => {} } = {}) {
  let csrfToken = null;
  let clockSkewSecs = null;

  async function send(method, path, { json, body, contentType, signal } = {}) {
    const headers = { accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
    let payload = body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(json);
    } else if (body !== undefined) {
      headers['content-type'] = contentType || 'application/octet-stream';
    }
    let response;
    try {
      response = await fetch(path, {
        method, headers, body: payload, credentials: 'same-origin', cache: 'no-store', signal,
      });
    } catch (error) {
      if (error && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'network', FALLBACK.network);
    }
    noteClock(response);
    if (response.ok) return response;
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    const code = typeof data.error === 'string' ? data.error : `http_${response.status}`;
    let message = typeof data.message === 'string' && data.message ? data.message
      : fallbackMessage(response.status, code);
    const retry = response.headers.get('retry-after');
    if (code === 'rate_limited' && retry) message += ` (retry in ${retry} s)`;
    const error = new ApiError(response.status, code, message, data);
    if (response.status === 401 && code === 'session_expired') {
      csrfToken = null;
      onSessionExpired(error);
    }
    throw error;
  }

  // The Date header of each answer gives the appliance clock as seen from this browser.
  function noteClock(response) {
    const date = Date.parse(response.headers.get('date') || '');
    if (!Number.isNaN(date)) clockSkewSecs = Math.round((date - Date.now()) / 1000);
  }

  async function jsonOf(response) {
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  return {
    setCsrf(token) { csrfToken = token || null; },
    hasCsrf() { return csrfToken !== null; },
    clockSkewSecs() { return clockSkewSecs; },
    async get(path, options) { return jsonOf(await send('GET', path, options)); },
    async post(path, json, options = {}) { return jsonOf(await send('POST', path, { ...options, json })); },
    async put(path, json, options = {}) { return jsonOf(await send('PUT', path, { ...options, json })); },
    async del(path) { return jsonOf(await send('DELETE', path)); },
    /** PUT/POST raw bytes (uploads). */
    async upload(method, path, bytes) {
      return jsonOf(await send(method, path, { body: bytes, contentType: 'application/octet-stream' }));
    },
    /** Runs a request whose answer is a file and hands it to the browser as a download. */
    async download(method, path, json, fallbackName) {
      const response = await send(method, path, json === undefined ? {} : { json });
      const blob = await response.blob();
      const name = fileNameFrom(response.headers.get('content-disposition'), fallbackName);
      saveBlob(blob, name);
      return name;
    },
  };
}

/** Offers a Blob as a file download. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started once click() returns; give the browser a moment to read it.
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}
