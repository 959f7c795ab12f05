// The API client: the credential lives in sessionStorage (gone with the tab), is sent as a header
// (X-API-Key or Authorization: Bearer), never in a URL, and is never logged.

const STORE = "compliance.credential";

export function credential() {
  try {
    const c = JSON.parse(sessionStorage.getItem(STORE) || "null");
    return c && (c.kind === "api_key" || c.kind === "bearer") && typeof c.secret === "string" ? c : null;
  } catch {
    return null;
  }
}

export function saveCredential(kind, secret) {
  sessionStorage.setItem(STORE, JSON.stringify({ kind, secret }));
}

export function signOut() {
  sessionStorage.removeItem(STORE);
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && (body.detail || body.message || body.error);
    super(detail ? `${detail} (HTTP ${status})` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function authHeaders(cred = credential()) {
  if (!cred) return {};
  return cred.kind === "bearer" ? { Authorization: `Bearer ${cred.secret}` } : { "X-API-Key": cred.secret };
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function url(path, query) {
  const u = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/** Calls the API; resolves to the JSON body (null for 204), rejects with ApiError. */
export async function api(path, { method = "GET", body, query, cred, contentType } = {}) {
  const headers = { Accept: "application/json", ...authHeaders(cred) };
  let payload;
  if (body !== undefined) {
    if (typeof body === "string") {
      payload = body;
      headers["Content-Type"] = contentType || "application/json";
    } else {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
  }
  const resp = await fetch(url(path, query), { method, headers, body: payload, credentials: "omit", cache: "no-store" });
  const text = await resp.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = { detail: text.slice(0, 200) };
    }
  }
  if (!resp.ok) {
    if (resp.status === 401 && !cred) onUnauthorized();
    throw new ApiError(resp.status, json);
  }
  return json;
}

/** Downloads a document with the credential in its header and saves it under `filename`. */
export async function download(path, filename, accept = "application/json") {
  const resp = await fetch(url(path), { headers: { Accept: accept, ...authHeaders() }, credentials: "omit", cache: "no-store" });
  if (!resp.ok) {
    let body = null;
    try {
      body = await resp.json();
    } catch {
      body = null;
    }
    throw new ApiError(resp.status, body);
  }
  const blob = await resp.blob();
  const disposition = resp.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(disposition);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return blob;
}

/** Every page of a paginated list (`next_cursor`), up to `max` items. */
export async function all(path, key, query = {}, max = 500, pageSize = 100) {
  const items = [];
  let cursor;
  do {
    const page = await api(path, { query: { ...query, limit: pageSize, cursor } });
    items.push(...(page[key] || []));
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
