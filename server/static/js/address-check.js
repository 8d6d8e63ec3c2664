// The address check (地址核对): pick a door (or a point) on the map for the chosen household.
// Made once the page is parsed, after map-tiles.js (a module) set up the tiles and their datum.
document.addEventListener("DOMContentLoaded", () => {
  const config = JSON.parse(document.getElementById("check-map-config").textContent);
  const F = window.wanggeMapFeatures;  // map-features.js: one feature at a time, text labels
  const map = L.map("map", {preferCanvas: true, zoomSnap: 0.25});
  let active = document.querySelector(".place-form");
  const mark = (form) => {
    document.querySelectorAll("tr.active").forEach((row) => row.classList.remove("active"));
    active = form;
    form.closest("tr").classList.add("active");
  };
  document.querySelectorAll("button.pick").forEach((button) => button.addEventListener("click", () => {
    mark(document.querySelector(`.place-form[data-review="${button.dataset.review}"]`));
    document.getElementById("map").scrollIntoView({behavior: "smooth", block: "nearest"});
  }));
  document.querySelectorAll("button.place").forEach((button) => button.addEventListener("click", () => {
    document.querySelector(`.place-form[data-review="${button.dataset.review}"]`).submit();
  }));
  const choose = (doorId, text) => {
    if (!active) return;
    const select = active.querySelector("select");
    if (![...select.options].some((o) => o.value === String(doorId))) {
      select.append(new Option(text, doorId));
    }
    select.value = String(doorId);
    active.querySelector(".picked").textContent = text;
  };
  const cells = fetch(config.cells_url, {credentials: "same-origin"}).then((r) => r.json())
    .then((fc) => F.addFeatures(map, L.geoJSON(null, {style: {color: "#c4661f", weight: 1, fillOpacity: 0.08}}), fc)
      .on("click", (event) => {
        if (!active) return;
        active.querySelector("select").value = "";
        active.querySelector("[name=lon]").value = event.latlng.lng.toFixed(7);
        active.querySelector("[name=lat]").value = event.latlng.lat.toFixed(7);
        const code = event.layer.feature.properties.code;
        active.querySelector(".picked").textContent = config.picked_point.replace("{cell}", code);
      }).addTo(map));
  const doors = fetch(config.doors_url, {credentials: "same-origin"}).then((r) => r.json())
    .then((fc) => F.addFeatures(map, L.geoJSON(null, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {radius: 5, color: "#1f5fbf", fillOpacity: 0.8}),
      onEachFeature: (f, layer) => {
        layer.bindTooltip(F.label(f.properties.address));
        layer.on("click", (event) => { L.DomEvent.stopPropagation(event); choose(f.id, f.properties.address); });
      },
    }), fc).addTo(map));
  Promise.all([cells, doors]).then(([a, b]) => {
    const all = L.featureGroup([a, b]);
    if (all.getBounds().isValid()) { map.fitBounds(all.getBounds(), {padding: [10, 10]}); } else { map.setView([31.2, 121.42], 14); }
    document.getElementById("map").dataset.ready = "1";  // cells and doors are drawn
  });
  if (active) mark(active);
});
