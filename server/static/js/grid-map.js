// The preview map of a grid version (Leaflet); settings come from #grid-map-config (CSP).
(function () {
  const config = JSON.parse(document.getElementById("grid-map-config").textContent);
  const colours = {street: "#b3261e", residential_area: "#1f5fbf", block: "#1a7f37", building_group: "#c4661f"};
  const weights = {street: 4, residential_area: 3, block: 2, building_group: 1};
  const map = L.map("map", {preferCanvas: true, attributionControl: true, zoomSnap: 0.25});
  if (config.tile_url) {
    L.tileLayer(config.tile_url, {maxZoom: 19, attribution: config.tile_attribution}).addTo(map);
  }
  const escape = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  fetch(config.export_url, {credentials: "same-origin"})
    .then((r) => r.json())
    .then((fc) => {
      // deepest first, so the coarser boundaries (thicker) are drawn on top of the shared edges
      const order = ["building_group", "block", "residential_area", "street"];
      fc.features.sort((a, b) => order.indexOf(a.properties.level) - order.indexOf(b.properties.level));
      const layer = L.geoJSON(fc, {
        style: (f) => ({color: colours[f.properties.level] || "#555", weight: weights[f.properties.level] || 1,
                        fillOpacity: f.properties.level === "building_group" ? 0.12 : 0}),
        onEachFeature: (f, l) => l.bindTooltip(escape(f.properties.code) + " " + escape(f.properties.name)),
      }).addTo(map);
      const markers = config.spots.map((p) => L.circleMarker([p.location[1], p.location[0]], {
          radius: 7, color: p.severity === "error" ? "#a40e26" : "#9a6700", weight: 2, fillOpacity: 0.7})
        .bindPopup("<strong>" + escape(p.rule) + "</strong><br>" + escape(p.code) + " " + escape(p.name) + "<br>"
                   + escape(config.lang === "en" ? p.message_en : p.message_zh)));
      const all = L.featureGroup([layer, ...markers]).addTo(map);
      if (all.getBounds().isValid()) { map.fitBounds(all.getBounds(), {padding: [10, 10]}); } else { map.setView([31.2, 121.42], 13); }
    });
})();
