/* Back-office maps (Leaflet from the xstatic-leaflet package): intake, one case, the big map.
   Works with no tile server: polygons on a plain background; a tile URL is optional. */
(function () {
  "use strict";
  var STATUS_COLOURS = {
    reported: "#8250df", opened: "#0969da", dispatched: "#bf8700", handling: "#d1242f",
    handled: "#1a7f37", closed: "#57606a", evaluated: "#24292f", cancelled: "#afb8c1"
  };
  var CENTRE = [31.2085, 121.4255];
  var F = window.wanggeMapFeatures;  // map-features.js: one feature at a time, text labels

  function makeMap(el) {
    // tiles and credits are added by map-tiles.js and base-layers.js, which add the control
    var map = L.map(el, { attributionControl: false });
    map.setView(CENTRE, 15);
    return map;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function cellLayer(map, url, onClick) {
    return getJSON(url).then(function (data) {
      var layer = L.geoJSON(null, {
        style: { color: "#b3261e", weight: 1, fillOpacity: 0.05 },
        onEachFeature: function (feature, lyr) {
          lyr.bindTooltip(F.label(feature.properties.name + " · " + feature.properties.code));
          if (onClick) { lyr.on("click", function (e) { onClick(feature, e); }); }
        }
      });
      F.addFeatures(map, layer, data).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { animate: false }); }
      container(map).dataset.cellsDrawn = String(layer.getLayers().length);
      if (window.performance && performance.mark) { performance.mark("wangge:cells-drawn"); }
      return layer;
    });
  }

  function container(map) { return map.getContainer(); }

  function marker(lat, lon, status) {
    return L.circleMarker([lat, lon], {
      radius: 7, weight: 2, color: "#fff", fillOpacity: 0.95,
      fillColor: STATUS_COLOURS[status] || "#0969da"
    });
  }

  /* A cell's path as people say it, outermost first and below the street:
     番禺居民区 › 第二块区 › 3号楼组 (the server sends it innermost first, the street last). */
  function pathText(path) {
    var names = path.slice().reverse();
    if (names.length > 1) { names.shift(); }
    return names.join(" › ");
  }

  /* Intake: click or pick an address → hidden lon/lat + "falls in … goes to …". */
  function intakeMap(el) {
    var map = makeMap(el), pin = null;
    var out = document.getElementById("placement");
    function place(lat, lon) {
      document.getElementById("lon").value = lon.toFixed(7);
      document.getElementById("lat").value = lat.toFixed(7);
      if (pin) { pin.setLatLng([lat, lon]); } else { pin = marker(lat, lon, "reported").addTo(map); }
      getJSON(el.dataset.locate + "?lon=" + lon + "&lat=" + lat).then(function (r) {
        out.textContent = r.cell_code
          ? pathText(r.cell_path) + " → " + (r.assignee || "—")
          : out.dataset.unplaced || "—";
        out.title = r.cell_code || ""; // the code only on hover
      });
    }
    cellLayer(map, el.dataset.cells).then(function () {
      var lon = parseFloat(document.getElementById("lon").value);
      var lat = parseFloat(document.getElementById("lat").value);
      if (!isNaN(lon) && !isNaN(lat)) { place(lat, lon); }
    });
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
    window.wanggeIntakePlace = function (lat, lon) {
      place(lat, lon);
      map.setView([lat, lon], 17, { animate: false });
    };
  }

  function caseMap(el) {
    var map = makeMap(el);
    var at = F.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
    var spot = at ? marker(at[0], at[1], "reported").addTo(map) : null;
    if (!at) { F.skip(map, "the case has no whole point", null); }
    cellLayer(map, el.dataset.cells).then(function () { if (at) { map.setView(at, 17, { animate: false }); } });
    var button = document.getElementById("relocate-btn");
    if (button) {
      map.on("click", function (e) {
        if (spot) { spot.setLatLng(e.latlng); } else { spot = marker(e.latlng.lat, e.latlng.lng, "reported").addTo(map); }
        document.getElementById("relocate-lon").value = e.latlng.lng.toFixed(7);
        document.getElementById("relocate-lat").value = e.latlng.lat.toFixed(7);
        button.disabled = false;
      });
    }
  }

  function text(tag, content, cls) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (cls) { node.className = cls; }
    return node;
  }

  function bigMap(el) {
    var map = makeMap(el), cells = null;
    var pins = window.wanggeMapMarkers.casePins(map, function (id) {  // map-markers.js
      return el.dataset["case"].replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(id));
    });
    var form = document.getElementById("map-filters"), card = document.getElementById("cell-card");
    function showCell(feature) {
      getJSON(el.dataset.cell.replace("CODE", encodeURIComponent(feature.properties.code))).then(function (c) {
        card.replaceChildren(text("h2", c.name + " · " + c.level), text("p", pathText(c.path), "muted small"));
        if (c.restricted) { card.appendChild(text("p", c.notice, "muted")); return; }
        var people = document.createElement("ul");
        c.people.forEach(function (p) { people.appendChild(text("li", p.name + " · " + p.role + " · " + p.rank + (p.phone ? " · " + p.phone : ""))); });
        card.appendChild(people);
        var list = document.createElement("ul");
        c.open_cases.forEach(function (k) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = el.dataset["case"].replace("00000000-0000-0000-0000-000000000000", k.id);
          a.textContent = k.number + " " + k.title;
          li.appendChild(a); li.appendChild(text("span", " · " + k.status_label, "muted small"));
          list.appendChild(li);
        });
        card.appendChild(list);
      });
    }
    function load() {
      var params = new URLSearchParams(new FormData(form));
      var level = params.get("level");
      params.delete("level");
      if (cells) { map.removeLayer(cells); }
      cellLayer(map, el.dataset.cells + "?level=" + level, showCell).then(function (layer) { cells = layer; });
      getJSON(el.dataset.cases + "?" + params.toString()).then(pins.show);
    }
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el;
    if ((el = document.getElementById("intake-map"))) { intakeMap(el); }
    if ((el = document.getElementById("case-map"))) { caseMap(el); }
    if ((el = document.getElementById("big-map"))) { bigMap(el); }
  });
})();
