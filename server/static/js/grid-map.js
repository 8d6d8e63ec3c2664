// The preview map of a grid version (Leaflet); settings come from #grid-map-config (CSP).
// A draft is drawn over the published version (grey dashed outlines), so a grid that moved
// as a whole, or one cell drawn elsewhere, shows at a glance. Made once the page is parsed,
// after map-tiles.js (a module) has set up the online tiles and their datum.
document.addEventListener("DOMContentLoaded", () => {
  const config = JSON.parse(document.getElementById("grid-map-config").textContent);
  const colours = {street: "#b3261e", residential_area: "#1f5fbf", block: "#1a7f37", building_group: "#c4661f"};
  const weights = {street: 4, residential_area: 3, block: 2, building_group: 1};
  const map = L.map("map", {preferCanvas: true, attributionControl: true, zoomSnap: 0.25});
  const F = window.wanggeMapFeatures;  // map-features.js: one feature at a time, text labels
  const mapEl = document.getElementById("map");
  const load = (url) => fetch(url, {credentials: "same-origin"}).then((r) => r.json());
  const order = ["building_group", "block", "residential_area", "street"];
  const levelOf = (f) => (f && f.properties ? f.properties.level : undefined);
  const deepestFirst = (fc) => (Array.isArray(fc && fc.features) ? fc.features : []).sort((a, b) => order.indexOf(levelOf(a)) - order.indexOf(levelOf(b)));
  Promise.all([load(config.export_url), config.published_url ? load(config.published_url) : null]).then(([fc, published]) => {
    const layers = [];
    if (published) {
      // under the draft: thin grey dashes, no fill, no tooltips to get in the way
      deepestFirst(published);
      const before = F.addFeatures(map, L.geoJSON(null, {
        style: (f) => ({color: "#57606a", weight: f.properties.level === "building_group" ? 1 : 2,
                        dashArray: "6 4", fill: false, opacity: 0.9}),
        interactive: false,
      }), published).addTo(map);
      layers.push(before);
      const toggle = document.getElementById("show-published");
      if (toggle) {
        toggle.addEventListener("change", () => (toggle.checked ? before.addTo(map) : before.remove()));
      }
    }
    // deepest first, so the coarser boundaries (thicker) are drawn on top of the shared edges
    deepestFirst(fc);
    const layer = F.addFeatures(map, L.geoJSON(null, {
      style: (f) => ({color: colours[f.properties.level] || "#555", weight: weights[f.properties.level] || 1,
                      fillOpacity: f.properties.level === "building_group" ? 0.12 : 0}),
      onEachFeature: (f, l) => l.bindTooltip(F.label((f.properties.code ?? "") + " " + (f.properties.name ?? ""))),
    }), fc).addTo(map);
    layers.push(layer);
    // A problem spot's popup: rule, cell and message as text nodes (names come from the file).
    const spotPopup = (p) => {
      const box = document.createElement("div");
      box.append(F.label(p.rule, "strong"), document.createElement("br"),
                 F.label((p.code ?? "") + " " + (p.name ?? "")), document.createElement("br"),
                 F.label(config.lang === "en" ? p.message_en : p.message_zh));
      return box;
    };
    const markers = config.spots.flatMap((p) => {
      const at = Array.isArray(p.location) ? F.latLng(p.location[1], p.location[0]) : null;
      if (!at) { F.skip(map, "a problem without a whole point", p); return []; }
      const drawn = F.drawOne(map, p, () => L.circleMarker(at, {
          radius: 7, color: p.severity === "error" ? "#a40e26" : "#9a6700", weight: 2, fillOpacity: 0.7})
        .bindPopup(() => spotPopup(p)));
      return drawn ? [drawn] : [];
    });
    const all = L.featureGroup([...layers, ...markers]).addTo(map);
    if (all.getBounds().isValid()) { map.fitBounds(all.getBounds(), {padding: [10, 10]}); } else { map.setView([31.2, 121.42], 13); }
    mapEl.dataset.drawn = "true";  // for people reading the DOM, and tests
  });
});
