// Shared offline-first map helper (Leaflet from /static/vendor/leaflet/, never a CDN).
//
// createMap(element, {tileUrl, attribution, basemapUrl}) draws tiles when a tile server is
// configured; with none, or after repeated tile failures, it falls back to a plain background
// plus the offline vector basemap (GeoJSON) when the server has one (a 404 draws nothing more).
//
// For a phone (the driver app): `preferCanvas` draws vectors on one canvas instead of an SVG
// element per line, and `basemapSlice` adds the basemap that many lines per task, so that its
// 960 lines do not hold the page in one long task.
//
// Leaflet is read from window.L when called, not when this module loads: the driver app loads
// Leaflet only once its map is needed.
const TILE_FAILURES_BEFORE_FALLBACK = 3;
const BASEMAP_STYLE = { color: "#b8c2cc", weight: 1, opacity: 0.9, fillOpacity: 0.05 };

export function createMap(element, {
  tileUrl = "", attribution = "", basemapUrl = "", preferCanvas = false, basemapSlice = 0,
} = {}) {
  const L = window.L;
  const map = L.map(element, { zoomControl: true, preferCanvas });
  element.classList.add("wp-map");
  let fellBack = false;
  const fallback = () => {
    if (fellBack) return;
    fellBack = true;
    element.classList.add("wp-map--offline");
    if (basemapUrl) drawBasemap(map, basemapUrl, basemapSlice);
  };
  if (tileUrl) {
    let failures = 0;
    const tiles = L.tileLayer(tileUrl, { attribution, maxZoom: 19 });
    tiles.on("tileerror", () => {
      failures += 1;
      if (failures >= TILE_FAILURES_BEFORE_FALLBACK && map.hasLayer(tiles)) {
        map.removeLayer(tiles);
        fallback();
      }
    });
    tiles.addTo(map);
  } else {
    fallback();
  }
  return map;
}

// The next task: when the browser is idle where it can tell, else after a frame.
function nextTask() {
  return new Promise((resolve) => {
    if (window.requestIdleCallback) window.requestIdleCallback(() => resolve(), { timeout: 500 });
    else setTimeout(resolve, 16);
  });
}

async function drawBasemap(map, url, slice = 0) {
  const L = window.L;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return; // no basemap built: the plain background stays
    const data = await response.json();
    const layer = L.geoJSON(null, {
      interactive: false,
      style: BASEMAP_STYLE,
      pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 1, color: "#b8c2cc" }),
    });
    layer.addTo(map);
    map.attributionControl.addAttribution("© OpenStreetMap contributors");
    const features = data.type === "FeatureCollection" ? data.features : [data];
    const size = slice > 0 ? slice : features.length;
    for (let start = 0; start < features.length; start += size) {
      if (start) await nextTask();
      layer.addData({ type: "FeatureCollection", features: features.slice(start, start + size) });
      layer.bringToBack();
    }
  } catch (error) {
    console.warn("basemap unavailable", error);
  }
}

// `size` in CSS pixels; the page's `.stop-marker span` rule draws the circle at that size.
export function numberedIcon(number, color, extraClass = "", size = 22) {
  return window.L.divIcon({
    className: `stop-marker ${extraClass}`.trim(),
    html: `<span style="background:${color}">${number}</span>`,
    iconSize: [size, size],
    iconAnchor: [size / 2, size / 2],
  });
}

export function fitTo(map, latlngs, fallbackCenter) {
  const L = window.L;
  if (latlngs.length > 1) map.fitBounds(L.latLngBounds(latlngs), { padding: [24, 24] });
  else map.setView(latlngs[0] || fallbackCenter, 13);
}
