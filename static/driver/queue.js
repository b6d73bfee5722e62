// The driver app's offline queue (IndexedDB through idb): every action is written here first, with
// the phone's own id (the server's idempotency key) and clock, then sent in the order recorded.
//
// Proofs (signature and photo blobs) are uploaded before the actions that name them. A network
// error or a 5xx keeps everything queued and retries with back-off; a result from the server is
// final for that action (applied, or rejected with a code the app shows on the stop).
import { openDB } from "../vendor/idb/build/index.js";

const DB_NAME = "waypoint-driver";
const BATCH = 100;
const POSITION_BATCH = 500;
export const SYNC_TAG = "waypoint-sync";

let dbPromise = null;

export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, 1, {
      upgrade(database) {
        const actions = database.createObjectStore("actions", { keyPath: "seq", autoIncrement: true });
        actions.createIndex("client_id", "client_id", { unique: true });
        database.createObjectStore("proofs", { keyPath: "client_id" });
        database.createObjectStore("positions", { keyPath: "seq", autoIncrement: true });
        database.createObjectStore("meta");
      },
    });
  }
  return dbPromise;
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- Session and the saved route ------------------------------------------------------------

// The session and the saved route are written only when they changed: the app calls both at
// every start, and a write each time kept IndexedDB busy while the page loaded.
function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function setSession(session) {
  const database = await db();
  if (same(await database.get("meta", "session"), session)) return;
  await database.put("meta", session, "session");
}

export async function getSession() {
  return (await db()).get("meta", "session");
}

// `saved_at`: when this copy of the route was first saved.
export async function saveToday(user, today) {
  const database = await db();
  const saved = await database.get("meta", "today");
  if (saved && saved.user === user && same(saved.today, today)) return;
  await database.put("meta", { user, today, saved_at: new Date().toISOString() }, "today");
}

export async function loadToday(user) {
  const saved = await (await db()).get("meta", "today");
  return saved && saved.user === user ? saved.today : null;
}

// --- Recording -------------------------------------------------------------------------------

// Writes one action locally and returns it; `proofs` are {client_id, kind, blob} stored with it.
export async function record(user, { kind, stopId = null, routeId = null, payload = {}, position = null, proofs = [] }) {
  const database = await db();
  const action = {
    user,
    client_id: newId(),
    kind,
    stop_id: stopId,
    route_id: routeId,
    device_at: new Date().toISOString(),
    lat: position ? position.lat : null,
    lng: position ? position.lng : null,
    accuracy_m: position ? position.accuracy_m : null,
    payload,
    state: "pending",
    result: null,
  };
  const tx = database.transaction(["actions", "proofs"], "readwrite");
  for (const proof of proofs) {
    await tx.objectStore("proofs").put({
      user, client_id: proof.client_id, stop_id: stopId, kind: proof.kind, blob: proof.blob,
      captured_at: action.device_at, state: "pending",
    });
  }
  action.seq = await tx.objectStore("actions").add(action);
  await tx.done;
  return action;
}

export async function recordPosition(user, fix) {
  await (await db()).add("positions", { user, ...fix });
}

export async function actions(user) {
  return (await (await db()).getAll("actions")).filter((a) => a.user === user);
}

export async function unsyncedCount(user) {
  const all = await actions(user);
  return all.filter((a) => a.state === "pending").length;
}

// --- Sending ---------------------------------------------------------------------------------

export class RetryLater extends Error {}
export class SignedOut extends Error {}

async function post(url, csrf, body, isJson = true) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: isJson ? { "Content-Type": "application/json", "X-CSRFToken": csrf } : { "X-CSRFToken": csrf },
      body: isJson ? JSON.stringify(body) : body,
    });
  } catch (error) {
    throw new RetryLater(String(error));
  }
  if (response.status === 401 || response.status === 403) {
    const data = await response.json().catch(() => ({}));
    throw new SignedOut((data.error && data.error.message) || `HTTP ${response.status}`);
  }
  if (response.status >= 500 || response.status === 408 || response.status === 429) {
    throw new RetryLater(`HTTP ${response.status}`);
  }
  return response;
}

async function uploadProofs(database, session) {
  const proofs = (await database.getAll("proofs")).filter((p) => p.user === session.user && p.state === "pending");
  for (const proof of proofs) {
    const form = new FormData();
    form.append("client_id", proof.client_id);
    form.append("stop_id", String(proof.stop_id));
    form.append("kind", proof.kind);
    form.append("captured_at", proof.captured_at);
    const extension = proof.blob.type === "image/png" ? "png" : "jpg";
    form.append("file", proof.blob, `${proof.kind}-${proof.client_id}.${extension}`);
    const response = await post(session.proofsUrl, session.csrf, form, false);
    const data = await response.json().catch(() => ({}));
    // 200/201: stored (or stored before); another 4xx: refused for good, and the action that
    // names it is then refused by the server with its own reason, shown on the stop.
    await database.put("proofs", {
      ...proof, blob: response.ok ? null : proof.blob, state: response.ok ? "uploaded" : "rejected", result: data,
    });
  }
}

// The newest action's seq (0 with none).
async function lastSeq(database) {
  const cursor = await database.transaction("actions").store.openCursor(null, "prev");
  return cursor ? cursor.key : 0;
}

// Sends the actions up to `last`: an action recorded after the proofs were uploaded may name a
// proof still on the phone, which the server would refuse for good (proof_required).
async function sendActions(database, session, last) {
  for (;;) {
    const pending = (await database.getAll("actions"))
      .filter((a) => a.user === session.user && a.state === "pending" && a.seq <= last)
      .slice(0, BATCH);
    if (!pending.length) return;
    const body = {
      actions: pending.map((a) => {
        const item = { client_id: a.client_id, kind: a.kind, device_at: a.device_at, payload: a.payload };
        if (a.stop_id != null) item.stop_id = a.stop_id;
        if (a.route_id != null) item.route_id = a.route_id;
        if (a.lat != null) Object.assign(item, { lat: a.lat, lng: a.lng, accuracy_m: a.accuracy_m });
        return item;
      }),
    };
    const response = await post(session.actionsUrl, session.csrf, body);
    if (!response.ok) throw new RetryLater(`HTTP ${response.status}`);
    const { results = [] } = await response.json();
    const byId = new Map(results.map((r) => [r.client_id, r]));
    const tx = database.transaction("actions", "readwrite");
    for (const action of pending) {
      const result = byId.get(action.client_id);
      if (!result) continue;
      await tx.store.put({ ...action, state: result.outcome === "applied" ? "applied" : "rejected", result });
    }
    await tx.done;
    if (results.length < pending.length) throw new RetryLater("partial answer");
  }
}

// The fix as the server's protocol takes it (tracking/serializers.py FixSerializer).
export function fixOf({ recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg }) {
  return { recorded_at, lat, lng, accuracy_m, speed_mps, heading_deg };
}

// The oldest queued fixes, at most one socket message's worth.
export async function queuedPositions(user) {
  const all = await (await db()).getAll("positions");
  return all.filter((p) => p.user === user).slice(0, POSITION_BATCH);
}

export async function forgetPositions(seqs) {
  const tx = (await db()).transaction("positions", "readwrite");
  for (const seq of seqs) await tx.store.delete(seq);
  await tx.done;
}

// The REST fallback: every queued fix in batches; an answered batch leaves the queue (fixes the
// server refused are refused for good, duplicates had been recorded already).
export async function sendPositions(session) {
  for (;;) {
    const chunk = await queuedPositions(session.user);
    if (!chunk.length) return;
    // A 5xx or no network throws (kept for later); a 4xx answer is final for the batch.
    await post(session.positionsUrl, session.csrf, { positions: chunk.map(fixOf) });
    await forgetPositions(chunk.map((p) => p.seq));
  }
}

let running = null;
let again = false;

// One sync at a time per page: proofs first, then the actions in the order recorded. A flush
// asked for while one runs makes it go round once more, for what was recorded meanwhile (record()
// writes an action and its proofs in one transaction, so the actions up to `last` have their
// proofs in the store before uploadProofs reads it).
export function flush(session) {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    const database = await db();
    do {
      again = false;
      const last = await lastSeq(database);
      await uploadProofs(database, session);
      await sendActions(database, session, last);
    } while (again);
  })().finally(() => {
    running = null;
    again = false;
  });
  return running;
}
