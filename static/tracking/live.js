// Customer tracking page, live: status, the ETA window and the driver's position over /ws/track/<token>/.
//
// The server only ever sends this order's data, and the driver only while heading to this stop.
// The page starts from the server-rendered snapshot; each (re)connect brings a fresh one.
import { formatClock } from "../common/time.js";
import { createMap } from "../maps/map.js";

const L = window.L;
const root = document.getElementById("live");
const $ = (selector) => document.querySelector(selector);
const labels = JSON.parse(document.getElementById("status-labels").textContent);
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30000;
const CLOSED = ["delivered", "failed", "returned", "cancelled"];
const destination = root.dataset.lat ? [Number(root.dataset.lat), Number(root.dataset.lng)] : null;

let map = null;
let driverMarker = null;
let pathLine = null;

function showWindow(start, end) {
  const line = $("[data-testid=eta-window]");
  line.hidden = !start;
  if (start) line.textContent = `Arriving between ${formatClock(start, root.dataset.timezone)} and ${formatClock(end, root.dataset.timezone)}`;
}

function ensureMap() {
  const element = $("[data-testid=driver-map]");
  element.hidden = false;
  if (map) return map;
  map = createMap(element, {
    tileUrl: root.dataset.tileUrl, attribution: root.dataset.tileAttribution, basemapUrl: root.dataset.basemapUrl,
  });
  if (destination) {
    L.circleMarker(destination, { radius: 8, color: "#0b6bcb", fillOpacity: 0.8 }).bindTooltip("You").addTo(map);
  }
  return map;
}

function showDriver(driver) {
  const line = $("[data-testid=driver]");
  if (!driver) {
    line.hidden = true;
    $("[data-testid=driver-map]").hidden = true;
    if (driverMarker) driverMarker.remove();
    driverMarker = null;
    showPath(null);
    return;
  }
  line.hidden = false;
  $("[data-testid=driver-name]").textContent = driver.driver_first_name;
  const here = [driver.lat, driver.lng];
  ensureMap();
  // The view first: Leaflet renders markers only on a map that has one.
  if (destination) map.fitBounds(L.latLngBounds([here, destination]), { padding: [30, 30], maxZoom: 16 });
  else map.setView(here, 15);
  if (!driverMarker) {
    driverMarker = L.marker(here, { icon: driverIcon(driver.driver_first_name) }).addTo(map);
  } else {
    driverMarker.setLatLng(here);
    if (driverMarker.name !== driver.driver_first_name) driverMarker.setIcon(driverIcon(driver.driver_first_name));
  }
  driverMarker.name = driver.driver_first_name;
}

// The driver's way here (along the streets when the server has road data), from the snapshot.
function showPath(path) {
  if (pathLine) pathLine.remove();
  pathLine = null;
  if (!path || path.length < 2 || !map) return;
  pathLine = L.polyline(path, { color: "#0b6bcb", weight: 4, opacity: 0.6, className: "route-line" }).addTo(map);
}

// As the driver moves, the line keeps only the way still ahead: from the new position on, past the
// vertex of the line nearest to it (the next snapshot, on reconnect, brings a fresh line).
function trimPath(here) {
  if (!pathLine) return;
  const points = pathLine.getLatLngs();
  const at = L.latLng(here);
  let nearest = 0;
  points.forEach((point, k) => {
    if (at.distanceTo(point) < at.distanceTo(points[nearest])) nearest = k;
  });
  pathLine.setLatLngs([at, ...points.slice(nearest + 1)]);
}

function driverIcon(name) {
  const safe = String(name ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return L.divIcon({ className: "driver-marker", html: `<span>${safe}</span>`, iconSize: null, iconAnchor: [20, 10] });
}

function showStatus(status) {
  $("[data-testid=status]").textContent = labels[status] || status;
  if (CLOSED.includes(status)) {
    showWindow(null, null);
    showDriver(null);
  }
}

function handle(event) {
  switch (event.type) {
    case "batch":
      event.events.forEach(handle);
      break;
    case "snapshot":
      showStatus(event.status);
      showWindow(event.eta_window_start, event.eta_window_end);
      showDriver(event.driver);
      showPath(event.driver ? event.path : null);
      break;
    case "driver.position":
      showDriver(event);
      trimPath([event.lat, event.lng]);
      break;
    case "driver.hidden":
      showDriver(null);
      break;
    case "eta.changed":
      showWindow(event.eta_window_start, event.eta_window_end);
      break;
    case "order.status":
      showStatus(event.status);
      break;
    default:
      break;
  }
}

let delay = RECONNECT_MIN_MS;

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/track/${root.dataset.token}/`);
  window.__waypointSocket = socket; // tests close it to prove the reconnect
  socket.addEventListener("open", () => {
    delay = RECONNECT_MIN_MS;
    root.dataset.connection = "live";
  });
  socket.addEventListener("message", (message) => handle(JSON.parse(message.data)));
  socket.addEventListener("close", (event) => {
    root.dataset.connection = "reconnecting";
    if (event.code === 4404) return; // the tracking link no longer exists
    setTimeout(connect, delay + Math.random() * delay * 0.2);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  });
}

window.__waypointTracking = { driverLatLng: () => driverMarker?.getLatLng() || null };
handle(JSON.parse(document.getElementById("tracking-live").textContent));
connect();
