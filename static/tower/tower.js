// Control tower: live map of drivers and stops, KPIs, exceptions feed and route progress.
//
// The page starts from the server-rendered snapshot; /ws/tower/ sends a fresh snapshot on every
// (re)connect and then forwards events: driver.position, eta.changed, kpis, order.status,
// exception.raised / exception.updated. After a drop it reconnects by itself with backoff, unless
// the server closed it because the user's access ended (static/common/access.js).
import { accessEnded } from "../common/access.js";
import { formatClock } from "../common/time.js";
import { createMap, fitTo } from "../maps/map.js";

const L = window.L;
const root = document.getElementById("tower");
const $ = (selector) => root.querySelector(selector);
const canWrite = root.dataset.canWrite === "true";
const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
const STATE_COLORS = {
  planned: "#0b6bcb", in_progress: "#e67700", delivered: "#067647", failed: "#b42318", late: "#d9480f",
};
const KPI_ZERO = { delivered: 0, failed: 0, pending: 0, on_time_pct: null, late_risk: 0 };
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30000;

let state = JSON.parse(document.getElementById("tower-data").textContent);
let hubFilter = "";
const driverMarkers = new Map();

const map = createMap(document.getElementById("tower-map"), {
  tileUrl: root.dataset.tileUrl,
  attribution: root.dataset.tileAttribution,
  basemapUrl: root.dataset.basemapUrl,
});
const stopLayer = L.layerGroup().addTo(map);
const driverLayer = L.layerGroup().addTo(map);
let fitted = false;

const text = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hubOf = (id) => state.hubs.find((hub) => hub.id === id);
const visible = (hubId) => !hubFilter || String(hubId) === hubFilter;
const hhmm = (iso, hubId) => formatClock(iso, hubOf(hubId)?.timezone);
const urlFor = (template, id) => template.replace("/0/", `/${id}/`);
const initials = (name) => (name || "?").split(/\s+/).map((part) => part[0]).join("").slice(0, 2).toUpperCase();

function renderKpis() {
  const kpis = (hubFilter ? state.kpis.hubs[hubFilter] : state.kpis.all) || KPI_ZERO;
  for (const [name, value] of Object.entries({ ...KPI_ZERO, ...kpis })) {
    const cell = $(`[data-kpi=${name}]`);
    if (!cell) continue;
    cell.textContent = name === "on_time_pct" ? (value === null ? "–" : `${value}%`) : value;
  }
}

function nextStop(route) {
  return route.stops.find((stop) => !["delivered", "failed"].includes(stop.state));
}

function renderRoutes() {
  const list = $("[data-testid=routes]");
  const routes = state.routes.filter((route) => visible(route.hub_id));
  list.innerHTML = routes.length ? "" : `<li class="muted">No dispatched routes.</li>`;
  for (const route of routes) {
    const next = nextStop(route);
    const pct = route.total ? Math.round((100 * route.done) / route.total) : 0;
    const item = document.createElement("li");
    item.dataset.routeId = route.id;
    item.innerHTML =
      `<a href="${urlFor(root.dataset.routeUrl, route.id)}"><span style="color:${text(route.color)}">■</span> ` +
      `${text(route.driver_name || "No driver")} · ${text(route.vehicle)}</a> ` +
      `<span class="muted" data-testid="route-progress">${route.done}/${route.total}</span>` +
      `<div class="progress-mini"><div style="width:${pct}%"></div></div>` +
      (next
        ? `<div class="muted" data-testid="next-eta">next ${text(next.reference)} · ETA ` +
          `<span class="${next.late ? "late-text" : ""}">${hhmm(next.eta || next.planned_arrival, route.hub_id)}</span></div>`
        : `<div class="muted">finished</div>`);
    list.append(item);
  }
}

function renderStops() {
  stopLayer.clearLayers();
  const points = [];
  for (const hub of state.hubs.filter((h) => visible(h.id))) {
    points.push([hub.lat, hub.lng]);
    L.marker([hub.lat, hub.lng], {
      title: hub.name,
      icon: L.divIcon({ className: "hub-marker", html: "<span>H</span>", iconSize: [20, 20], iconAnchor: [10, 10] }),
    }).addTo(stopLayer);
  }
  for (const route of state.routes.filter((r) => visible(r.hub_id))) {
    // The server's line follows the streets when road data is on, else it is straight.
    if (route.path && route.path.length > 1) {
      L.polyline(route.path, { color: route.color, weight: 3, opacity: 0.6, className: "route-line" }).addTo(stopLayer);
    }
    for (const stop of route.stops) {
      if (stop.lat === null || stop.lng === null) continue;
      points.push([stop.lat, stop.lng]);
      L.circleMarker([stop.lat, stop.lng], {
        radius: 7, weight: 2, color: route.color, fillColor: STATE_COLORS[stop.state] || "#888", fillOpacity: 0.9,
      })
        .bindPopup(
          `<a href="${urlFor(root.dataset.orderUrl, stop.order_id)}">${text(stop.reference)}</a><br>` +
          `${text(stop.state)} · ETA ${hhmm(stop.eta || stop.planned_arrival, route.hub_id)}`,
        )
        .addTo(stopLayer);
    }
  }
  if (!fitted) {
    const hub = state.hubs[0];
    fitTo(map, points.concat([...driverMarkers.values()].map((m) => m.getLatLng())), hub ? [hub.lat, hub.lng] : [60.17, 24.94]);
    fitted = true;
  }
}

function placeDriver(position) {
  let marker = driverMarkers.get(position.driver_id);
  if (!marker) {
    marker = L.marker([position.lat, position.lng], {
      title: position.driver_name,
      icon: L.divIcon({
        className: "driver-marker", html: `<span>${text(initials(position.driver_name))}</span>`,
        iconSize: [26, 26], iconAnchor: [13, 13],
      }),
    });
    driverMarkers.set(position.driver_id, marker);
  }
  marker.setLatLng([position.lat, position.lng]);
  marker.position = position;
  if (visible(position.hub_id)) marker.addTo(driverLayer);
  else driverLayer.removeLayer(marker);
}

function renderDrivers() {
  const list = $("[data-testid=drivers]");
  const markers = [...driverMarkers.values()].filter((m) => visible(m.position.hub_id));
  list.innerHTML = markers.length ? "" : `<li class="muted">No driver positions yet.</li>`;
  for (const marker of markers) {
    const p = marker.position;
    const item = document.createElement("li");
    item.dataset.driverId = p.driver_id;
    item.innerHTML =
      `<strong>${text(p.driver_name)}</strong> <span class="muted" data-testid="driver-position">` +
      `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}</span><br><span class="muted">` +
      `${hhmm(p.recorded_at, p.hub_id)}` +
      (p.speed_mps != null ? ` · ${Math.round(p.speed_mps * 3.6)} km/h` : "") +
      (p.battery_pct != null ? ` · battery ${Math.round(p.battery_pct)}%` : "") + "</span>";
    list.append(item);
  }
}

function renderExceptions() {
  const list = $("[data-testid=exceptions]");
  const open = state.exceptions.filter((e) => e.status !== "resolved");
  list.innerHTML = open.length ? "" : `<li class="muted">No open exceptions.</li>`;
  for (const exception of open) {
    const item = document.createElement("li");
    item.className = exception.severity;
    item.dataset.exceptionId = exception.id;
    item.innerHTML =
      `<span class="badge">${text(exception.kind.replace("_", " "))}</span> ` +
      `<span class="badge" data-testid="exception-status">${text(exception.status)}</span> ` +
      `<span data-testid="exception-message">${text(exception.message)}</span>` +
      (exception.order_id ? ` <a href="${urlFor(root.dataset.orderUrl, exception.order_id)}">order</a>` : "") +
      (exception.assigned_to ? ` <span class="muted">→ ${text(exception.assigned_to)}</span>` : "") +
      `<ul class="suggested">${exception.suggested_actions.map((a) => `<li>${text(a)}</li>`).join("")}</ul>` +
      (canWrite
        ? `<div class="actions"><input type="text" placeholder="Note" aria-label="Note">` +
          (exception.status === "open" ? `<button type="button" data-action="acknowledge">Acknowledge</button>` : "") +
          `<button type="button" class="secondary" data-action="resolve">Resolve</button></div>`
        : "");
    list.append(item);
  }
}

function renderAll() {
  renderKpis();
  renderRoutes();
  renderStops();
  for (const position of state.drivers) placeDriver(position);
  renderDrivers();
  renderExceptions();
}

function upsertException(exception) {
  const index = state.exceptions.findIndex((e) => e.id === exception.id);
  if (index >= 0) state.exceptions[index] = exception;
  else state.exceptions.unshift(exception);
  renderExceptions();
}

function applyEtas(etas) {
  const byStop = new Map(etas.map((eta) => [eta.stop_id, eta]));
  for (const route of state.routes) {
    for (const stop of route.stops) {
      const eta = byStop.get(stop.id);
      if (!eta) continue;
      stop.eta = eta.eta;
      stop.late = eta.late;
      if (["planned", "in_progress", "late"].includes(stop.state)) {
        stop.state = eta.late ? "late" : stop.status === "in_progress" ? "in_progress" : "planned";
      }
    }
  }
  renderRoutes();
  renderStops();
}

function applyOrderStatus(event) {
  for (const route of state.routes) {
    for (const stop of route.stops) {
      if (stop.order_id !== event.order_id) continue;
      stop.order_status = event.status;
      if (event.status === "delivered") stop.state = "delivered";
      else if (["failed", "returned", "rescheduled"].includes(event.status)) stop.state = "failed";
    }
    route.done = route.stops.filter((s) => ["delivered", "failed"].includes(s.state)).length;
  }
  renderRoutes();
  renderStops();
}

function handle(event) {
  switch (event.type) {
    case "batch": {
      // Positions and ETAs arrive coalesced (a tenth of a second's worth): draw the list once.
      const positions = event.events.filter((e) => e.type === "driver.position");
      positions.forEach(placeDriver);
      if (positions.length) renderDrivers();
      event.events.filter((e) => e.type !== "driver.position").forEach(handle);
      break;
    }
    case "snapshot":
      state = event;
      driverLayer.clearLayers();
      driverMarkers.clear();
      renderAll();
      break;
    case "driver.position":
      placeDriver(event);
      renderDrivers();
      break;
    case "eta.changed":
      applyEtas(event.etas);
      break;
    case "kpis":
      if (event.date !== root.dataset.date) break; // today's KPIs; this page may show another day
      state.kpis = event.kpis;
      renderKpis();
      break;
    case "order.status":
      applyOrderStatus(event);
      break;
    case "exception.raised":
    case "exception.updated":
      upsertException(event.exception);
      break;
    default:
      break;
  }
}

async function act(item, action) {
  const id = item.dataset.exceptionId;
  const note = item.querySelector("input")?.value || "";
  const url = root.dataset.exceptionUrl.replace("/0/acknowledge", `/${id}/${action}`);
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ note }),
  });
  const body = await response.json();
  if (response.ok) upsertException(body);
  else window.alert(body.message || "The action failed.");
}

$("[data-testid=exceptions]").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) act(button.closest("li[data-exception-id]"), button.dataset.action);
});

$("[data-testid=hub-filter]").addEventListener("change", (event) => {
  hubFilter = event.target.value;
  fitted = false;
  renderAll();
});

// --- The socket: reconnects by itself, each connect brings a fresh snapshot ------------------
let delay = RECONNECT_MIN_MS;
const status = $("[data-testid=connection]");

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/tower/?date=${root.dataset.date}`);
  window.__waypointSocket = socket; // tests close it to prove the reconnect
  socket.addEventListener("open", () => {
    delay = RECONNECT_MIN_MS;
    status.textContent = "live";
    root.dataset.connection = "live";
  });
  socket.addEventListener("message", (message) => handle(JSON.parse(message.data)));
  socket.addEventListener("close", (event) => {
    if (accessEnded(event)) {
      status.textContent = "closed";
      root.dataset.connection = "closed";
      return;
    }
    status.textContent = "reconnecting";
    root.dataset.connection = "reconnecting";
    setTimeout(connect, delay + Math.random() * delay * 0.2);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  });
}

window.__waypointTower = {
  driverLatLng: (driverId) => driverMarkers.get(driverId)?.getLatLng() || null,
};
renderAll();
connect();
