// The driver's phone app: today's route, the next stop large, actions that work offline.
//
// Every tap is recorded first in the local queue (queue.js, IndexedDB) and shown at once; the
// queue is sent when the phone is online, in the order recorded, with back-off on failures and
// Background Sync where the browser has it. The server's answer per action is kept: a refusal
// (order cancelled, stop moved to another route...) stays visible on its stop.
import SignaturePad from "../vendor/signature_pad/dist/signature_pad.js";
import { createMap, numberedIcon } from "../maps/map.js";
import { formatClock } from "../common/time.js";
import * as queue from "./queue.js";

const config = JSON.parse(document.getElementById("driver-config").textContent);
const T = JSON.parse(document.getElementById("driver-strings").textContent);
const REASONS = JSON.parse(document.getElementById("driver-reasons").textContent);
const root = document.getElementById("driver-app");
const $ = (selector, scope = document) => scope.querySelector(selector);
const byTest = (id) => $(`[data-testid="${id}"]`);
const ACTIVE = new Set(["planned", "en_route", "arrived"]);
const RESULT_STATUS = { depart: "en_route", arrive: "arrived", complete: "done", fail: "failed", skip: "skipped" };
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60000;
const PHOTO_MAX_PX = 1600;

const user = config.user;
const state = { today: null, stale: false, actions: [], online: navigator.onLine, position: null };
let map = null;
let mapLayer = null;
let backoffMs = BACKOFF_MIN_MS;
let retryTimer = null;
let signaturePad = null;

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]
  ));
}

function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.split("=")[1]) : $("input[name=csrfmiddlewaretoken]", root).value;
}

function session() {
  return {
    user, csrf: csrfToken(), actionsUrl: config.actionsUrl, proofsUrl: config.proofsUrl,
    positionsUrl: config.positionsUrl,
  };
}

// --- Route and local actions -----------------------------------------------------------------

async function loadToday() {
  try {
    const response = await fetch(config.todayUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.redirected || response.status === 401 || response.status === 403) {
      showBanner(T.rejected);
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    state.today = await response.json();
    // The service worker answers with its saved copy when the network is down.
    state.stale = response.headers.get("X-Waypoint-Offline-Copy") === "1";
    if (!state.stale) await queue.saveToday(user, state.today);
  } catch {
    state.today = await queue.loadToday(user);
    state.stale = true;
  }
  await refreshActions();
}

async function refreshActions() {
  state.actions = await queue.actions(user);
  render();
}

// The route as the driver sees it: the server's statuses with the phone's own actions on top.
function view() {
  const route = state.today && state.today.route;
  if (!route) return null;
  const stops = route.stops.map((stop) => ({ ...stop, local: null, rejection: null }));
  const byId = new Map(stops.map((s) => [s.id, s]));
  let shiftStarted = Boolean(route.shift_started_at);
  let shiftEnded = Boolean(route.shift_ended_at);
  for (const action of state.actions) {
    if (action.state === "rejected") {
      const stop = byId.get(action.stop_id);
      if (stop) stop.rejection = action.result;
      continue;
    }
    if (action.kind === "start_shift") shiftStarted = true;
    if (action.kind === "end_shift") shiftEnded = true;
    const stop = byId.get(action.stop_id);
    if (stop && RESULT_STATUS[action.kind] && (ACTIVE.has(stop.status) || action.state === "pending")) {
      stop.status = RESULT_STATUS[action.kind];
      stop.local = action.state;
    }
  }
  const done = stops.filter((s) => s.status === "done").length;
  const failed = stops.filter((s) => s.status === "failed" || s.status === "skipped").length;
  const remaining = stops.filter((s) => ACTIVE.has(s.status)).length;
  const next = stops.find((s) => ACTIVE.has(s.status)) || null;
  return { route, stops, shiftStarted, shiftEnded, done, failed, remaining, next };
}

// --- Rendering -------------------------------------------------------------------------------

function showBanner(text) {
  const banner = byTest("banner");
  banner.textContent = text || "";
  banner.hidden = !text;
}

function renderStatus() {
  const net = byTest("net-status");
  net.textContent = state.online ? T.online : T.offline;
  net.classList.toggle("drv-net--off", !state.online);
  const pending = state.actions.filter((a) => a.state === "pending").length;
  byTest("unsynced-count").textContent = String(pending);
  byTest("unsynced").classList.toggle("drv-unsynced--some", pending > 0);
}

function clock(iso) {
  const hub = state.today.route.hub;
  return formatClock(iso, (hub && hub.timezone) || config.timeZone);
}

function proofLabel(kind) {
  return T[`proof_${kind}`] || kind;
}

function stopDetails(stop) {
  const order = stop.order;
  const rows = [
    [T.eta, clock(stop.eta || stop.planned_arrival)],
    [T.window, `${clock(stop.window_start)}–${clock(stop.window_end)}`],
  ];
  if (order.instructions) rows.push([T.instructions, order.instructions]);
  if (order.access_code) rows.push([T.access_code, order.access_code]);
  if (order.delivery_alternative) {
    rows.push([T.customer_choice, [order.delivery_alternative, order.delivery_alternative_detail].filter(Boolean).join(": ")]);
  }
  rows.push([T.load, `${order.load_parcels ?? 0} ${T.parcels} · ${order.load_kg ?? 0} kg`]);
  if (order.cash_on_delivery) rows.push([T.cash, order.cash_on_delivery]);
  if (order.proofs_required && order.proofs_required.length) {
    rows.push([T.proofs, order.proofs_required.map(proofLabel).join(", ")]);
  }
  return `<dl class="drv-dl">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
}

function navigateUrl(order) {
  const where = `${order.lat},${order.lng}`;
  if (/iPhone|iPad|iPod/.test(navigator.userAgent)) return `https://maps.apple.com/?daddr=${where}`;
  if (/Android/.test(navigator.userAgent)) return `geo:${where}?q=${where}`;
  return `https://www.openstreetmap.org/directions?to=${where}`;
}

function stopButtons(stop, v) {
  if (!v.shiftStarted || v.shiftEnded || !ACTIVE.has(stop.status)) return "";
  const id = stop.id;
  const buttons = [];
  if (stop.status === "planned") buttons.push(`<button class="drv-btn" data-act="depart" data-stop="${id}">${esc(T.depart)}</button>`);
  if (stop.status !== "arrived") buttons.push(`<button class="drv-btn" data-act="arrive" data-stop="${id}">${esc(T.arrive)}</button>`);
  if (stop.status === "arrived") {
    const kind = stop.order.type === "pickup" ? "pickup" : "complete";
    buttons.push(`<button class="drv-btn drv-btn--go" data-act="${kind}" data-stop="${id}">${esc(T[kind])}</button>`);
  }
  buttons.push(`<button class="drv-btn drv-btn--stop" data-act="fail" data-stop="${id}">${esc(T.fail)}</button>`);
  return `<div class="drv-actions">${buttons.join("")}</div>`;
}

function stopTools(stop) {
  const order = stop.order;
  return `<div class="drv-tools">
      <a class="drv-btn" href="${esc(navigateUrl(order))}" data-testid="navigate">${esc(T.navigate)}</a>
      <button class="drv-btn" data-contact="call" data-stop="${stop.id}">${esc(T.call)}</button>
      <button class="drv-btn" data-contact="sms" data-stop="${stop.id}">${esc(T.message)}</button>
    </div>`;
}

function stopState(stop) {
  let text = T[`status_${stop.status}`] || stop.status;
  if (stop.local === "pending") text += ` · ${T.queued}`;
  const parts = [`<p class="drv-state drv-state--${esc(stop.status)}" data-testid="stop-state">${esc(text)}</p>`];
  if (stop.rejection) {
    parts.push(`<p class="drv-error" data-testid="stop-rejection">${esc(T.rejected)}: ${esc(stop.rejection.message || "")} (${esc(stop.rejection.code || "")})</p>`);
  }
  return parts.join("");
}

function render() {
  renderStatus();
  byTest("loading").hidden = true;
  const v = view();
  showBanner(state.stale ? T.stale : "");
  for (const id of ["progress", "shift", "next-stop", "map", "stops-title"]) byTest(id).hidden = !v;
  if (!v) {
    byTest("stops").innerHTML = state.today || state.stale ? `<li class="drv-card">${esc(T.no_route)}</li>` : "";
    return;
  }
  byTest("progress").innerHTML = `
    <div class="drv-progress">
      <span><b data-testid="done-count">${v.done}</b> ${esc(T.done)}</span>
      <span><b data-testid="remaining-count">${v.remaining}</b> ${esc(T.remaining)}</span>
      <span><b>${v.failed}</b> ${esc(T.failed)}</span>
    </div>
    <progress max="${v.stops.length}" value="${v.done + v.failed}"></progress>`;
  const shift = byTest("shift");
  if (!v.shiftStarted) {
    shift.innerHTML = `<button class="drv-btn drv-btn--go drv-btn--wide" data-act="start_shift">${esc(T.start_shift)}</button>`;
  } else if (!v.shiftEnded) {
    shift.innerHTML = `<p class="drv-muted">${esc(T.shift_started)} · ${esc(v.route.vehicle.name)}</p>
      ${v.remaining ? "" : `<button class="drv-btn drv-btn--wide" data-act="end_shift">${esc(T.end_shift)}</button>`}`;
  } else {
    shift.innerHTML = `<p class="drv-muted">${esc(T.shift_ended)}</p>`;
  }
  const next = byTest("next-stop");
  if (v.next) {
    const stop = v.next;
    next.innerHTML = `<p class="drv-kicker">${esc(T.next_stop)} · #${stop.sequence}</p>
      <h1 class="drv-name">${esc(stop.order.customer_first_name)}</h1>
      <p class="drv-address">${esc(stop.order.address_text)}</p>
      ${stopState(stop)}${stopDetails(stop)}${stopTools(stop)}${stopButtons(stop, v)}`;
  } else {
    next.innerHTML = `<h1 class="drv-name">${esc(T.all_done)}</h1>`;
  }
  byTest("stops").innerHTML = v.stops.map((stop) => `
    <li class="drv-stop drv-stop--${esc(stop.status)}" data-testid="stop" data-stop-id="${stop.id}">
      <details${stop.rejection ? " open" : ""}>
        <summary><span class="drv-seq">${stop.sequence}</span>
          <span class="drv-stop-main"><b>${esc(stop.order.customer_first_name)}</b> · ${esc(stop.order.address_text)}</span>
          <span class="drv-stop-eta">${esc(clock(stop.eta || stop.planned_arrival))}</span></summary>
        ${stopState(stop)}${stopDetails(stop)}${stopTools(stop)}${stopButtons(stop, v)}
      </details>
      ${stop.rejection ? "" : ""}
    </li>`).join("");
  for (const stop of v.stops) {
    if (stop.rejection) {
      const item = $(`[data-stop-id="${stop.id}"]`, byTest("stops"));
      item.classList.add("drv-stop--rejected");
    }
  }
  drawMap(v);
}

// The map costs more than the rest of the page (Leaflet itself, the 960-line basemap), and the
// route list and the next stop are what the driver needs first: Leaflet is loaded and the map
// drawn only once the map is scrolled into view, in idle time, the basemap in slices.
const MAP_MARKER_PX = 28; // a touch target of at least 24 px (WCAG 2.5.8)
const BASEMAP_SLICE = 60;
let mapView = null;
let mapWatch = null;
let leafletLoading = null;

function loadLeaflet() {
  if (window.L) return Promise.resolve();
  if (!leafletLoading) {
    leafletLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = byTest("map").dataset.leaflet;
      script.onload = () => resolve();
      script.onerror = () => {
        leafletLoading = null;
        reject(new Error("Leaflet did not load"));
      };
      document.head.append(script);
    });
  }
  return leafletLoading;
}

function whenIdle() {
  return new Promise((resolve) => {
    if (window.requestIdleCallback) window.requestIdleCallback(() => resolve(), { timeout: 1000 });
    else setTimeout(resolve, 0);
  });
}

async function showMap() {
  try {
    await loadLeaflet();
  } catch (error) {
    console.warn("map unavailable", error);
    mapWatch = null; // watched again at the next render
    return;
  }
  await whenIdle();
  map = createMap(byTest("map"), {
    tileUrl: config.tileUrl, attribution: config.tileAttribution, basemapUrl: config.basemapUrl,
    preferCanvas: true, basemapSlice: BASEMAP_SLICE,
  });
  mapLayer = window.L.layerGroup().addTo(map);
  drawStops(mapView);
}

function drawMap(v) {
  mapView = v;
  if (map) {
    drawStops(v);
    return;
  }
  if (mapWatch) return;
  if (!("IntersectionObserver" in window)) {
    mapWatch = true;
    showMap();
    return;
  }
  mapWatch = new IntersectionObserver((entries, observer) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    showMap();
  });
  mapWatch.observe(byTest("map"));
}

function drawStops(v) {
  mapLayer.clearLayers();
  const points = [];
  const hub = v.route.hub;
  if (hub && hub.lat != null) points.push([hub.lat, hub.lng]);
  for (const stop of v.stops) {
    if (stop.order.lat == null) continue;
    const color = stop.status === "done" ? "#067647" : stop.status === "failed" ? "#b42318" : "#0b3d91";
    // Markers only show where the stops are (the list below is what the driver taps): no
    // keyboard stop, no click target.
    const icon = numberedIcon(stop.sequence, color, "", MAP_MARKER_PX);
    window.L.marker([stop.order.lat, stop.order.lng], { icon, keyboard: false, interactive: false }).addTo(mapLayer);
    points.push([stop.order.lat, stop.order.lng]);
  }
  // The server's line follows the streets when road data is on; stop to stop otherwise.
  const line = v.route.path && v.route.path.length > 1 ? v.route.path : points;
  if (line.length > 1) window.L.polyline(line, { color: "#0b3d91", weight: 3, opacity: 0.6 }).addTo(mapLayer);
  if (points.length && !map.waypointFitted) {
    map.fitBounds(points, { padding: [20, 20], maxZoom: 15 });
    map.waypointFitted = true;
  }
}

// --- Recording actions -----------------------------------------------------------------------

async function act(kind, { stopId = null, routeId = null, payload = {}, proofs = [] } = {}) {
  await queue.record(user, { kind, stopId, routeId, payload, position: state.position, proofs });
  await refreshActions();
  requestSync();
  trySync();
}

function requestSync() {
  navigator.serviceWorker?.ready
    .then((registration) => registration.sync && registration.sync.register(queue.SYNC_TAG))
    .catch(() => {}); // Background Sync is optional: the page retries by itself
}

function openDialog(id, prepare, check) {
  const dialog = byTest(id);
  const form = $("form", dialog);
  form.reset();
  form.onsubmit = null;
  dialog.returnValue = ""; // else Escape would return the previous "ok"
  dialog.showModal(); // first, so that prepare() measures laid-out elements (the signature canvas)
  if (prepare) prepare(dialog, form);
  if (check) form.onsubmit = check;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? form : null), { once: true });
  });
}

async function resizePhoto(file) {
  // Phones take 4000 px photos: resized on the device so the queue and the upload stay small.
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_MAX_PX / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close?.();
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
}

async function photoProofs(input) {
  const proofs = [];
  for (const file of input.files || []) {
    proofs.push({ client_id: queue.newId(), kind: "photo", blob: await resizePhoto(file) });
  }
  return proofs;
}

function stopById(id) {
  return view().stops.find((s) => s.id === id);
}

async function startShift() {
  const v = view();
  const form = await openDialog("shift-dialog", (dialog) => {
    const loaded = v.stops.reduce((sum, stop) => sum + (stop.order.load_parcels || 0), 0);
    $("[name=parcels_loaded]", dialog).value = String(loaded);
  });
  if (!form) return;
  const parcels = form.elements.parcels_loaded.value;
  await act("start_shift", {
    routeId: v.route.id,
    payload: {
      vehicle_ok: form.elements.vehicle_ok.checked,
      vehicle_notes: form.elements.vehicle_notes.value,
      parcels_loaded: parcels === "" ? null : Number(parcels),
    },
  });
  startPositions();
}

// The dialog's fields by the requirement (orders' proof_of_delivery values) that shows them.
const FIELD_REQUIREMENT = { code: "one_time_code" };

async function complete(stop) {
  const required = new Set(stop.order.proofs_required || []);
  const dialog = byTest("complete-dialog");
  const error = byTest("complete-error");
  const form = await openDialog("complete-dialog", () => {
    error.hidden = true;
    for (const field of dialog.querySelectorAll("[data-field]")) {
      const name = field.dataset.field;
      const requirement = FIELD_REQUIREMENT[name] || name;
      const shown = name === "cash" ? Boolean(stop.order.cash_on_delivery) : required.has(requirement) || name === "recipient_name" || (name === "photo" && !required.size);
      field.hidden = !shown;
    }
    const canvas = $("canvas", dialog);
    // The canvas's pixels match its size on screen (sharp on high-density screens).
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    if (!signaturePad) signaturePad = new SignaturePad(canvas, { penColor: "#000", backgroundColor: "#fff" });
    signaturePad.clear();
  }, (event) => {
    if (event.submitter?.value === "ok" && required.has("signature") && signaturePad.isEmpty()) {
      event.preventDefault(); // the dialog stays open with what was typed
      error.textContent = T.missing_signature;
      error.hidden = false;
    }
  });
  if (!form) return;
  const proofs = [];
  const payload = {};
  if (required.has("signature")) {
    const blob = await (await fetch(signaturePad.toDataURL("image/png"))).blob();
    const proof = { client_id: queue.newId(), kind: "signature", blob };
    proofs.push(proof);
    payload.signature = proof.client_id;
  }
  const photos = await photoProofs(form.elements.photo);
  if (photos.length) payload.photos = photos.map((p) => p.client_id);
  proofs.push(...photos);
  if (form.elements.code.value) payload.code = form.elements.code.value.trim();
  if (form.elements.recipient_name.value) payload.recipient_name = form.elements.recipient_name.value.trim();
  if (form.elements.cash_collected.value) payload.cash_collected = form.elements.cash_collected.value.trim();
  await act("complete", { stopId: stop.id, payload, proofs });
}

async function fail(stop) {
  const form = await openDialog("fail-dialog", (dialog) => {
    const select = $("select", dialog);
    select.innerHTML = REASONS.map((r) => `<option value="${esc(r.value)}">${esc(r.label)}</option>`).join("");
  }, (event) => {
    const form = event.target;
    // The server asks what happened when the reason is "other": the note is then required.
    form.elements.note.required = form.elements.reason.value === "other";
    if (event.submitter?.value === "ok" && !form.reportValidity()) event.preventDefault();
  });
  if (!form) return;
  const photos = await photoProofs(form.elements.photo);
  const payload = { reason: form.elements.reason.value, note: form.elements.note.value };
  if (photos.length) payload.photos = photos.map((p) => p.client_id);
  await act("fail", { stopId: stop.id, payload, proofs: photos });
}

async function pickup(stop) {
  let scanning = null;
  const form = await openDialog("pickup-dialog", (dialog) => {
    const button = $("[data-action=scan]", dialog);
    button.hidden = !("BarcodeDetector" in window);
    button.onclick = async () => {
      scanning = await scan(dialog);
    };
  });
  if (scanning) scanning();
  if (!form) return;
  const counts = new Map();
  for (const line of form.elements.items.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
    counts.set(line, (counts.get(line) || 0) + 1);
  }
  const items = [...counts].map(([code, quantity]) => ({ code, quantity }));
  await act("complete", { stopId: stop.id, payload: { items } });
}

async function scan(dialog) {
  // BarcodeDetector (Chromium on Android): each code read is added as a line of the items field.
  const video = $("video", dialog);
  const textarea = $("textarea", dialog);
  const detector = new window.BarcodeDetector();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const seen = new Set();
  let running = true;
  const tick = async () => {
    if (!running) return;
    for (const code of await detector.detect(video).catch(() => [])) {
      if (!seen.has(code.rawValue)) {
        seen.add(code.rawValue);
        textarea.value = `${textarea.value.trim()}\n${code.rawValue}`.trim();
      }
    }
    setTimeout(tick, 300);
  };
  tick();
  return () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.hidden = true;
  };
}

async function contact(stop, channel) {
  try {
    const response = await fetch(config.contactUrl.replace("/0/", `/${stop.id}/`), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ channel }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    showBanner(T.contact_sent);
    // "ready": the phone dials or writes itself, to the number the provider gives (the customer's,
    // or a masked proxy); otherwise the provider has already placed the call or sent the message.
    if (data.status === "ready" && data.connect_to) {
      const scheme = channel === "sms" ? "sms" : "tel";
      window.location.href = /^(tel|sms):/.test(data.connect_to) ? data.connect_to : `${scheme}:${data.connect_to}`;
    }
  } catch {
    showBanner(T.contact_failed);
  }
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-act], button[data-contact]");
  if (!button) return;
  event.preventDefault();
  const stop = button.dataset.stop ? stopById(Number(button.dataset.stop)) : null;
  if (button.dataset.contact) {
    contact(stop, button.dataset.contact);
    return;
  }
  const kind = button.dataset.act;
  if (kind === "start_shift") startShift();
  else if (kind === "end_shift") act("end_shift", { routeId: view().route.id }).then(stopPositions);
  else if (kind === "complete") complete(stop);
  else if (kind === "pickup") pickup(stop);
  else if (kind === "fail") fail(stop);
  else act(kind, { stopId: stop.id });
});

$("[data-action=clear-signature]").addEventListener("click", () => signaturePad && signaturePad.clear());

// --- Syncing ---------------------------------------------------------------------------------

function setOnline(online) {
  state.online = online;
  renderStatus();
}

async function trySync() {
  clearTimeout(retryTimer);
  if (!navigator.onLine) {
    setOnline(false);
    return;
  }
  const before = state.actions.filter((a) => a.state === "pending").length;
  try {
    await queue.flush(session());
    await queue.sendPositions(session());
    backoffMs = BACKOFF_MIN_MS;
    setOnline(true);
    await refreshActions();
    if (before) await loadToday(); // the server's own statuses after what was applied
  } catch (error) {
    await refreshActions();
    if (error instanceof queue.SignedOut) {
      showBanner(`${T.rejected}: ${error.message}`);
      return;
    }
    setOnline(navigator.onLine && !(error instanceof queue.RetryLater));
    retryTimer = setTimeout(trySync, backoffMs + Math.random() * backoffMs * 0.3);
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
  }
}

window.addEventListener("online", () => {
  setOnline(true);
  backoffMs = BACKOFF_MIN_MS;
  trySync();
  loadToday();
});
window.addEventListener("offline", () => setOnline(false));

// --- Positions -------------------------------------------------------------------------------

let watchId = null;
let positionTimer = null;
let socket = null;
let inFlight = null; // {ref, seqs} of the positions message awaiting its ack

// Every fix is queued first (IndexedDB) and leaves the queue only when the server acknowledged
// it, over the socket (an `ack` per message) or in a REST batch on reconnect.
function openSocket() {
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${window.location.host}${config.socketPath}`);
  socket.addEventListener("open", () => queue.sendPositions(session()).catch(() => {}));
  socket.addEventListener("message", async (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ack" && inFlight && message.ref === inFlight.ref) {
      const done = inFlight;
      inFlight = null;
      await queue.forgetPositions(done.seqs);
    } else if (message.type === "error") {
      inFlight = null; // kept queued: sent again at the next tick
    }
  });
  socket.addEventListener("close", () => {
    socket = null;
    inFlight = null;
  });
}

async function sharePosition() {
  // Every tick shares where the phone is now, new fix or not: a phone standing still may get no
  // new fix from the GPS, and the server learns that the driver stays at a stop (the geofence
  // marks the stop arrived) only from positions that keep coming while they are there.
  if (state.position) await queue.recordPosition(user, { ...state.position, recorded_at: new Date().toISOString() });
  if (!navigator.onLine) return;
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    openSocket();
    return;
  }
  if (inFlight) return;
  const queued = await queue.queuedPositions(user);
  if (!queued.length) return;
  inFlight = { ref: queue.newId(), seqs: queued.map((p) => p.seq) };
  socket.send(JSON.stringify({ type: "positions", ref: inFlight.ref, positions: queued.map(queue.fixOf) }));
}

function startPositions() {
  if (watchId != null || !navigator.geolocation) return;
  watchId = navigator.geolocation.watchPosition((p) => {
    state.position = {
      // The phone's one clock, as for the actions (the fix arrives as it is taken).
      recorded_at: new Date().toISOString(), lat: p.coords.latitude, lng: p.coords.longitude,
      accuracy_m: p.coords.accuracy, speed_mps: p.coords.speed, heading_deg: p.coords.heading,
    };
  }, () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
  openSocket();
  positionTimer = setInterval(sharePosition, config.positionIntervalS * 1000);
}

function stopPositions() {
  if (watchId != null) navigator.geolocation.clearWatch(watchId);
  clearInterval(positionTimer);
  watchId = null;
  socket?.close();
}

// --- Start -----------------------------------------------------------------------------------

async function start() {
  // Saved for the service worker's Background Sync; the route's request need not wait for it.
  const saving = queue.setSession(session());
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.serviceWorkerUrl, { scope: config.scope, type: "module" }).catch((e) => {
      console.warn("service worker not registered", e);
    });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "sync") trySync();
    });
  }
  await loadToday();
  await saving;
  const v = view();
  if (v && v.shiftStarted && !v.shiftEnded) startPositions();
  trySync();
  setInterval(trySync, BACKOFF_MAX_MS / 2);
}

start();
