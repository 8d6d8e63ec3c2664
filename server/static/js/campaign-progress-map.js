/* A campaign's progress on the office map (issue 18): cells (or residential areas) filled by
   the share of their targets done, findings (cases the answers opened) as pins.
   Same Leaflet, tiles and one-feature-at-a-time drawing as the other office maps
   (map-tiles.js, map-features.js); labels are text nodes, never HTML. */
(function () {
  "use strict";
  var F = window.wanggeMapFeatures;
  var CENTRE = [31.2085, 121.4255];
  var NONE = "#eaeef2", STEPS = [[1, "#006d2c"], [0.75, "#31a354"], [0.5, "#74c476"], [0.25, "#fd8d3c"], [0, "#fdd0a2"]];

  function colour(share, done) {
    if (share === null || share === undefined || !done) { return NONE; }
    for (var i = 0; i < STEPS.length; i += 1) { if (share >= STEPS[i][0]) { return STEPS[i][1]; } }
    return NONE;
  }

  function pct(share) { return share === null || share === undefined ? "—" : (share * 100).toFixed(1) + "%"; }

  function start(el) {
    var words = JSON.parse(document.getElementById("progress-words").textContent);
    var map = L.map(el, { attributionControl: false });
    map.setView(CENTRE, 15);
    var layers = {}, shown = null;
    function polygons(collection) {
      var layer = L.geoJSON(null, {
        style: function (f) {
          return { className: "progress-cell", color: "#57606a", weight: 1, fillOpacity: 0.7, fillColor: colour(f.properties.share, f.properties.done) };
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties;
          lyr.bindTooltip(F.label(p.name + " · " + words.done + " " + p.done + "/" + p.targets + " (" + pct(p.share) + ") · " + words.findings + " " + p.findings));
        }
      });
      return F.addFeatures(map, layer, collection);
    }
    function show(which) {
      if (shown) { map.removeLayer(shown); }
      shown = layers[which].addTo(map);
      shown.bringToBack();
    }
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(el.dataset.url + " " + r.status); } return r.json(); })
      .then(function (data) {
        layers.cells = polygons(data.cells);
        layers.areas = polygons(data.areas);
        show("cells");
        if (layers.cells.getLayers().length) { map.fitBounds(layers.cells.getBounds(), { animate: false }); }
        el.dataset.cellsDrawn = String(layers.cells.getLayers().length);
        var pins = L.layerGroup().addTo(map), n = 0;
        data.findings.forEach(function (c) {
          var at = F.latLng(c.lat, c.lon);
          if (!at) { F.skip(map, "no whole point", c); return; }
          F.drawOne(map, c, function () {
            var m = L.circleMarker(at, { radius: 7, weight: 2, color: "#fff", fillColor: "#b3261e", fillOpacity: 0.95 });
            m.bindTooltip(F.label(c.number));
            m.on("click", function () { window.location.href = el.dataset["case"].replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(c.id)); });
            n += 1;
            return m.addTo(pins);
          });
        });
        el.dataset.findingsDrawn = String(n);
      });
    document.getElementById("level").addEventListener("change", function (e) { if (layers[e.target.value]) { show(e.target.value); } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("progress-map");
    if (el) { start(el); }
  });
})();
