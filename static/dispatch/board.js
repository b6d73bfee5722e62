// Dispatch board: map of routes, route list with drag and drop, live progress over WebSocket.
import { accessEnded } from "../common/access.js";
import { formatClock } from "../common/time.js";
import { createMap, fitTo, numberedIcon } from "../maps/map.js";

const L = window.L;
const root = document.getElementById("board");
const planId = Number(root.dataset.planId);
const hubId = Number(root.dataset.hubId);
const canWrite = root.dataset.canWrite === "true";
const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
const $ = (selector) => root.querySelector(selector);
let plan = JSON.parse(document.getElementById("plan-data").textContent);

const map = createMap(document.getElementById("board-map"), {
  tileUrl: root.dataset.tileUrl,
  attribution: root.dataset.tileAttribution,
  basemapUrl: root.dataset.basemapUrl,
});
const overlay = L.layerGroup().addTo(map);
let fitted = false;

const hhmm = (iso) => formatClock(iso, plan.hub.timezone);
const text = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const percent = (part, whole) => (whole > 0 ? Math.min(100, Math.round((100 * part) / whole)) : 0);

function renderHeader() {
  $("[data-testid=plan-status]").textContent = plan.status;
  $("[data-testid=plan-version]").textContent = plan.version;
  const pct = plan.status === "optimizing" ? plan.progress.progress_pct : plan.status === "draft" ? 0 : 100;
  setProgress(pct, plan.progress.best_cost);
  const message = $("[data-testid=plan-message]");
  message.textContent = plan.error || plan.message || "";
  message.classList.toggle("error", Boolean(plan.error));
  const t = plan.totals;
  $("[data-testid=plan-totals]").textContent = plan.routes.length
    ? `${plan.routes.length} routes · ${t.stops} stops · ${(t.distance_m / 1000).toFixed(1)} km · ` +
      `${Math.round(t.duration_s / 60)} min · cost ${(t.cost / 100).toFixed(2)} · ${t.unassigned} unassigned`
    : "";
  if (!canWrite) return;
  const optimize = $("[data-action=optimize]");
  optimize.textContent = { failed: "Retry", optimized: "Re-optimize" }[plan.status] || "Optimize";
  optimize.hidden = !["draft", "failed", "optimized"].includes(plan.status);
  $("[data-action=cancel]").hidden = plan.status !== "optimizing";
  $("[data-action=dispatch]").hidden = plan.status !== "optimized" || plan.routes.length === 0;
}

function setProgress(pct, bestCost) {
  $("[data-testid=progress-bar]").style.width = `${pct}%`;
  $("[data-testid=progress-text]").textContent = `${pct}%`;
  $("[data-testid=best-cost]").textContent =
    bestCost === null || bestCost === undefined ? "" : `best ${Number(bestCost).toLocaleString()}`;
}

function bar(label, used, capacity, unit) {
  const over = capacity > 0 && used > capacity;
  return `<span>${label}</span><div class="bar${over ? " over" : ""}"><div style="width:${percent(used, capacity || used)}%"></div></div>` +
    `<span>${used}${capacity ? ` / ${capacity}` : ""} ${unit}</span>`;
}

function renderRoutes() {
  const html = plan.routes.map((route) => {
    const clock = (value) => { const [h, m] = value.split(":").map(Number); return h * 60 + m; };
    const shiftMinutes = route.shift ? clock(route.shift.end) - clock(route.shift.start) : 0;
    const routeMinutes = route.start_time && route.end_time
      ? Math.round((new Date(route.end_time) - new Date(route.start_time)) / 60000) : 0;
    const stops = route.stops.map((stop) => `
      <li draggable="${canWrite && !stop.locked && !route.locked}" data-stop-id="${stop.id}" data-route-id="${route.id}"
          class="${stop.locked ? "locked" : ""}" data-testid="stop">
        <span class="seq">${stop.sequence}</span>
        <span>${text(stop.merchant_reference)} <span class="muted">${text(stop.address)}</span></span>
        <span class="eta" data-testid="stop-eta">${hhmm(stop.planned_arrival)}</span>
        ${canWrite ? `<button type="button" class="lock" data-lock-stop="${stop.id}" aria-pressed="${stop.locked}"
          title="Lock this stop on its route">${stop.locked ? "locked" : "lock"}</button>` : "<span></span>"}
      </li>`).join("");
    const violations = route.violations.length
      ? `<ul class="violations" data-testid="violations">${route.violations.map((v) => `<li>${text(v)}</li>`).join("")}</ul>` : "";
    return `
      <article class="route" style="--route-color:${route.color}" data-route="${route.id}" data-testid="route">
        <div class="route-head">
          <strong>${text(route.vehicle.name)} · ${text(route.driver ? route.driver.name : "no driver")}</strong>
          <span class="muted">${hhmm(route.start_time)}–${hhmm(route.end_time)}${route.broken_down ? " · broken down" : ""}</span>
          ${canWrite ? `<button type="button" class="lock" data-lock-route="${route.id}" aria-pressed="${route.locked}">
            ${route.locked ? "route locked" : "lock route"}</button>` : ""}
        </div>
        <div class="bars">
          ${bar("parcels", route.load.parcels, route.capacity.parcels, "")}
          ${bar("weight", route.load.kg, route.capacity.kg, "kg")}
          ${bar("volume", route.load.dm3, route.capacity.dm3, "dm³")}
          ${bar("time", routeMinutes, shiftMinutes, "min")}
        </div>
        ${violations}
        <ol class="stops" data-drop-route="${route.id}">${stops}</ol>
      </article>`;
  }).join("");
  $("[data-testid=routes]").innerHTML = html || `<p class="muted">No routes yet.</p>`;
  $("[data-testid=unassigned]").innerHTML = plan.unassigned.map((u) =>
    `<li data-testid="unassigned-order">${text(u.merchant_reference)} <span class="reason">${text(u.reason)}: ${text(u.message)}</span></li>`,
  ).join("") || `<li class="muted">None.</li>`;
}

function renderMap() {
  overlay.clearLayers();
  const hub = [plan.hub.lat, plan.hub.lng];
  const points = [hub];
  L.marker(hub, { icon: numberedIcon("H", "#1d2733", "hub-marker"), title: plan.hub.name }).addTo(overlay);
  for (const route of plan.routes) {
    // The server's line follows the streets when road data is on; stop to stop otherwise.
    const path = route.path && route.path.length > 1 ? route.path : [hub, ...route.stops.map((s) => [s.lat, s.lng]), hub];
    L.polyline(path, { color: route.color, weight: 4, opacity: 0.85, className: "route-line" }).addTo(overlay);
    for (const stop of route.stops) {
      points.push([stop.lat, stop.lng]);
      L.marker([stop.lat, stop.lng], { icon: numberedIcon(stop.sequence, route.color), title: stop.merchant_reference })
        .addTo(overlay);
    }
  }
  for (const u of plan.unassigned) {
    if (u.lat === null || u.lng === null) continue;
    L.circleMarker([u.lat, u.lng], { radius: 6, color: "#b42318", dashArray: "2 3" }).addTo(overlay);
    points.push([u.lat, u.lng]);
  }
  if (!fitted) {
    fitTo(map, points, hub);
    fitted = plan.routes.length > 0;
  }
}

function render() {
  renderHeader();
  renderRoutes();
  renderMap();
}

async function api(path, body) {
  const response = await fetch(`/api/plans/${planId}${path}`, {
    method: body === undefined ? "GET" : "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const violations = data.details && data.details.violations
      ? " " + Object.values(data.details.violations).flat().join("; ") : "";
    showError(`${data.message || response.statusText}${violations}`);
    if (data.code === "plan_version_conflict") await reload();
    return null;
  }
  return data;
}

function showError(message) {
  const box = $("[data-testid=plan-message]");
  box.textContent = message;
  box.classList.add("error");
}

async function reload() {
  const fresh = await api("");
  if (fresh) {
    plan = fresh;
    render();
  }
}

async function edit(path, body) {
  const fresh = await api(path, { expected_version: plan.version, ...body });
  if (fresh) {
    plan = fresh;
    render();
  }
}

root.addEventListener("click", async (event) => {
  const target = event.target.closest("button");
  if (!target || !root.contains(target)) return;
  const action = target.dataset.action;
  if (action === "optimize") {
    target.disabled = true;
    plan.status = "optimizing";
    plan.progress.progress_pct = 0;
    renderHeader();
    const started = await api("/optimize", { expected_version: plan.version });
    target.disabled = false;
    if (started) await reload();
  } else if (action === "cancel") {
    await api("/optimize/cancel", {});
  } else if (action === "dispatch") {
    await edit("/dispatch", {});
  } else if (target.dataset.lockStop) {
    await edit(`/stops/${target.dataset.lockStop}/lock`, { locked: target.getAttribute("aria-pressed") !== "true" });
  } else if (target.dataset.lockRoute) {
    await edit(`/routes/${target.dataset.lockRoute}/lock`, { locked: target.getAttribute("aria-pressed") !== "true" });
  }
});

// Drag and drop: drop on a stop to go before it, on the list's free space to go last.
let dragged = null;
const clearMarks = () => root.querySelectorAll(".drop-before, .drop-end").forEach((el) => el.classList.remove("drop-before", "drop-end"));
root.addEventListener("dragstart", (event) => {
  const item = event.target.closest("li[data-stop-id]");
  if (!item) return;
  dragged = Number(item.dataset.stopId);
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", String(dragged));
});
root.addEventListener("dragover", (event) => {
  const list = event.target.closest("[data-drop-route]");
  if (!list || dragged === null) return;
  event.preventDefault();
  clearMarks();
  const item = event.target.closest("li[data-stop-id]");
  if (item) item.classList.add("drop-before");
  else list.classList.add("drop-end");
});
root.addEventListener("dragend", () => { dragged = null; clearMarks(); });
root.addEventListener("drop", async (event) => {
  const list = event.target.closest("[data-drop-route]");
  if (!list || dragged === null) return;
  event.preventDefault();
  clearMarks();
  const routeId = Number(list.dataset.dropRoute);
  const items = [...list.querySelectorAll("li[data-stop-id]")].filter((li) => Number(li.dataset.stopId) !== dragged);
  const before = event.target.closest("li[data-stop-id]");
  let position = items.length + 1;
  if (before && Number(before.dataset.stopId) !== dragged) position = items.indexOf(before) + 1;
  const stopId = dragged;
  dragged = null;
  await edit(`/stops/${stopId}/move`, { route_id: routeId, position });
});

// Live updates: a snapshot on (re)connect, progress and changes as they happen.
let retry = 0;
function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/hubs/${hubId}/board/`);
  socket.addEventListener("open", () => { retry = 0; root.dataset.live = "true"; });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "board.snapshot") {
      const mine = message.plans.find((p) => p.id === planId);
      if (mine && mine.version !== plan.version) reload();
      return;
    }
    if (message.plan_id !== planId) return;
    if (message.type === "plan.progress") {
      plan.status = "optimizing";
      $("[data-testid=plan-status]").textContent = "optimizing";
      setProgress(message.progress_pct, message.best_cost);
    } else if (message.version !== plan.version) {
      reload();
    }
  });
  socket.addEventListener("close", (event) => {
    root.dataset.live = "false";
    if (accessEnded(event)) return; // the server would refuse a reconnect
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry); // back off up to ~30 s, then keep trying
  });
}

render();
connect();
