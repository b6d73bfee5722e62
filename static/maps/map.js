// Shared offline-first map helper (Leaflet from /static/vendor/leaflet/, never a CDN).
//
// createMap(element, {tileUrl, attribution, basemapUrl}) draws tiles when a tile server is
// configured; with none, or after repeated tile failures, it falls back to a plain background
// plus the offline vector basemap (GeoJSON) when the server has one (a 404 draws nothing more).
const L = window.L;
const TILE_FAILURES_BEFORE_FALLBACK = 3;

export function createMap(element, { tileUrl = "", attribution = "", basemapUrl = "" } = {}) {
  const map = L.map(element, { zoomControl: true, preferCanvas: false });
  element.classList.add("wp-map");
  let fellBack = false;
  const fallback = () => {
    if (fellBack) return;
    fellBack = true;
    element.classList.add("wp-map--offline");
    if (basemapUrl) drawBasemap(map, basemapUrl);
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

async function drawBasemap(map, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return; // no basemap built: the plain background stays
    const data = await response.json();
    const layer = L.geoJSON(data, {
      interactive: false,
      style: { color: "#b8c2cc", weight: 1, opacity: 0.9, fillOpacity: 0.05 },
      pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 1, color: "#b8c2cc" }),
    });
    layer.addTo(map);
    layer.bringToBack();
    map.attributionControl.addAttribution("© OpenStreetMap contributors");
  } catch (error) {
    console.warn("basemap unavailable", error);
  }
}

export function numberedIcon(number, color, extraClass = "") {
  return L.divIcon({
    className: `stop-marker ${extraClass}`.trim(),
    html: `<span style="background:${color}">${number}</span>`,
    iconSize: [22, 22],
    iconAnchor: [11, 11],
  });
}

export function fitTo(map, latlngs, fallbackCenter) {
  if (latlngs.length > 1) map.fitBounds(L.latLngBounds(latlngs), { padding: [24, 24] });
  else map.setView(latlngs[0] || fallbackCenter, 13);
}
