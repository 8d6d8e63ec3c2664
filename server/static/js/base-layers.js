/* Base layers (roads, building footprints, points of interest) under the cells of every
   Leaflet map on the page, with labels at sensible zooms; no tile server needed.

   Load it after leaflet.js with the features URL on the tag:
     <script src=".../base-layers.js" data-url="/api/v1/layers/features"></script>
   Every map made afterwards gets the layers (an init hook), so the maps' own scripts need no
   change; `wanggeBaseLayers.attach(map, url)` does it by hand. Labels are built with
   textContent only: a name in a layer file is data, never markup. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var script = document.currentScript;
  var URL_DEFAULT = script && script.dataset.url;
  var ROAD_WEIGHT = { motorway: 6, trunk: 6, primary: 5, secondary: 5, tertiary: 4 };
  var MAJOR = { motorway: 1, trunk: 1, primary: 1, secondary: 1, tertiary: 1 };
  var ZOOM = { buildings: 15, roadLabels: 15, minorRoadLabels: 16, poiLabels: 16, numbers: 18 };
  var MAX_LABELS = 250;
  var PAD = 0.5; // fetch the view and half of it again on each side
  var MAX_SPAN = 0.45; // the API refuses a box wider than 0.5°

  function escapeText(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function panes(map) {
    if (!map.getPane("wanggeBase")) {
      map.createPane("wanggeBase").style.zIndex = 350; // above tiles (200), below cells (400)
      var labels = map.createPane("wanggeBaseLabels");
      labels.style.zIndex = 450; // above the cells' outlines, below markers and popups
      labels.style.pointerEvents = "none";
    }
  }

  /* Roads widen as the map zooms in (a street is ~10 m wide, not 3 px at every zoom). */
  function roadWidth(feature, zoom) {
    var base = ROAD_WEIGHT[feature.properties["class"]] || 3;
    return Math.round(base * Math.pow(1.5, Math.max(0, Math.min(zoom, 19) - 15)));
  }

  function roadStyle(zoom, casing) {
    return function (feature) {
      var width = roadWidth(feature, zoom);
      return { pane: "wanggeBase", color: casing ? "#c2b8ab" : "#ffffff",
               weight: casing ? width + 2 : width, opacity: 1, lineCap: "round",
               lineJoin: "round", interactive: false };
    };
  }

  function buildingStyle() {
    return { pane: "wanggeBase", color: "#b5a99c", weight: 1, fillColor: "#e4dcd2",
             fillOpacity: 0.9, interactive: false };
  }

  function labelIcon(text, angle, kind) {
    var span = document.createElement("span");
    span.textContent = text;
    span.className = "wangge-base-label wangge-base-label-" + kind;
    var s = span.style;
    s.position = "absolute";
    s.left = "0";
    s.top = "0";
    s.whiteSpace = "nowrap";
    s.font = kind === "number" ? "11px sans-serif" : "12px sans-serif";
    s.color = kind === "road" ? "#5f5a55" : kind === "poi" ? "#1f4e79" : "#6e6259";
    s.textShadow = "0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff";
    s.transform = "translate(-50%, -50%) rotate(" + angle + "deg)";
    return L.divIcon({ html: span, className: "wangge-base-label-box", iconSize: null });
  }

  /* A point and angle (degrees, text kept upright) near the middle of the visible part. */
  function along(map, coords, bounds) {
    var inside = coords.filter(function (c) { return bounds.contains([c[1], c[0]]); });
    if (inside.length < 2) { return null; }
    var pts = inside.map(function (c) { return map.latLngToLayerPoint([c[1], c[0]]); });
    var total = 0, i;
    for (i = 1; i < pts.length; i++) { total += pts[i].distanceTo(pts[i - 1]); }
    if (total < 60) { return null; }
    var half = total / 2, run = 0;
    for (i = 1; i < pts.length; i++) {
      var step = pts[i].distanceTo(pts[i - 1]);
      if (run + step >= half) {
        var t = step ? (half - run) / step : 0;
        var p = L.point(pts[i - 1].x + (pts[i].x - pts[i - 1].x) * t, pts[i - 1].y + (pts[i].y - pts[i - 1].y) * t);
        var angle = Math.atan2(pts[i].y - pts[i - 1].y, pts[i].x - pts[i - 1].x) * 180 / Math.PI;
        if (angle > 90) { angle -= 180; } else if (angle < -90) { angle += 180; }
        return { latlng: map.layerPointToLatLng(p), angle: Math.round(angle), point: p };
      }
      run += step;
    }
    return null;
  }

  function lines(geometry) {
    return geometry.type === "LineString" ? [geometry.coordinates] : geometry.coordinates;
  }

  function centre(geometry) {
    var ring = geometry.type === "Polygon" ? geometry.coordinates[0] : geometry.coordinates[0][0];
    var x = 0, y = 0;
    ring.slice(1).forEach(function (c) { x += c[0]; y += c[1]; });
    return [y / (ring.length - 1), x / (ring.length - 1)];
  }

  function attach(map, url) {
    if (!url || map._wanggeBase) { return; }
    var state = map._wanggeBase = { loaded: null, data: null, credits: {}, casing: null, fill: null };
    panes(map);
    var roads = L.layerGroup().addTo(map), buildings = L.layerGroup(), pois = L.layerGroup();
    var labels = L.layerGroup().addTo(map);

    function credit(list) {
      if (!map.attributionControl) {
        map.attributionControl = L.control.attribution({ prefix: false }).addTo(map);
      }
      (list || []).forEach(function (text) {
        if (!state.credits[text]) {
          state.credits[text] = true;
          map.attributionControl.addAttribution(escapeText(text));
        }
      });
    }

    function draw(data) {
      state.data = data;
      roads.clearLayers(); buildings.clearLayers(); pois.clearLayers();
      var byKind = { roads: [], buildings: [], poi: [] };
      data.features.forEach(function (f) { (byKind[f.properties.kind] || []).push(f); });
      L.geoJSON({ type: "FeatureCollection", features: byKind.buildings }, { style: buildingStyle }).addTo(buildings);
      var fc = { type: "FeatureCollection", features: byKind.roads }, zoom = map.getZoom();
      state.casing = L.geoJSON(fc, { style: roadStyle(zoom, true) }).addTo(roads);
      state.fill = L.geoJSON(fc, { style: roadStyle(zoom, false) }).addTo(roads);
      state.styledAt = zoom;
      byKind.poi.forEach(function (f) {
        var c = f.geometry.coordinates;
        L.circleMarker([c[1], c[0]], { pane: "wanggeBase", radius: 4, color: "#fff", weight: 1,
          fillColor: "#1f4e79", fillOpacity: 1, interactive: false }).addTo(pois);
      });
      credit(data.attribution);
      var el = map.getContainer();
      if (data.features.length) { el.style.background = "#f2efe9"; } // land, not Leaflet's grey
      el.dataset.baseLayers = String(data.features.length);
      if (window.performance && performance.mark) { performance.mark("wangge:base-layers-drawn"); }
      relabel();
    }

    function relabel() {
      var data = state.data, zoom = map.getZoom();
      labels.clearLayers();
      if (!data) { return; }
      if (state.fill && state.styledAt !== zoom) {
        state.casing.setStyle(roadStyle(zoom, true));
        state.fill.setStyle(roadStyle(zoom, false));
        state.styledAt = zoom;
      }
      if (zoom >= ZOOM.buildings) { buildings.addTo(map); pois.addTo(map); } else { buildings.remove(); pois.remove(); }
      var bounds = map.getBounds(), placed = [], count = 0;
      function free(p, w, h) {
        for (var i = 0; i < placed.length; i++) {
          var q = placed[i];
          if (Math.abs(q.x - p.x) < (q.w + w) / 2 && Math.abs(q.y - p.y) < (q.h + h) / 2) { return false; }
        }
        placed.push({ x: p.x, y: p.y, w: w, h: h });
        return true;
      }
      function put(latlng, text, angle, kind, point) {
        if (count >= MAX_LABELS || !text) { return; }
        var p = point || map.latLngToLayerPoint(latlng);
        var w = text.length * 12 + 6, h = 16;
        if (angle && Math.abs(angle) > 45) { var t = w; w = h; h = t; }
        if (!free(p, w, h)) { return; }
        L.marker(latlng, { icon: labelIcon(text, angle, kind), pane: "wanggeBaseLabels",
          interactive: false, keyboard: false }).addTo(labels);
        count++;
      }
      data.features.forEach(function (f) {
        var kind = f.properties.kind, text = f.properties.label;
        if (kind === "poi" && zoom >= ZOOM.poiLabels) {
          var c = f.geometry.coordinates;
          if (bounds.contains([c[1], c[0]])) { put(L.latLng(c[1], c[0] ), text, 0, "poi"); }
        }
      });
      data.features.forEach(function (f) {
        var major = MAJOR[f.properties["class"]];
        if (f.properties.kind !== "roads" || zoom < (major ? ZOOM.roadLabels : ZOOM.minorRoadLabels)) { return; }
        lines(f.geometry).forEach(function (coords) {
          var spot = along(map, coords, bounds);
          if (spot) { put(spot.latlng, f.properties.label, spot.angle, "road", spot.point); }
        });
      });
      if (zoom >= ZOOM.numbers) {
        data.features.forEach(function (f) {
          if (f.properties.kind !== "buildings") { return; }
          var at = centre(f.geometry);
          if (bounds.contains(at)) { put(L.latLng(at), f.properties.label, 0, "number"); }
        });
      }
      map.getContainer().dataset.baseLabels = String(count);
      map.getContainer().dataset.baseZoom = String(zoom); // for people reading the DOM, and tests
    }

    function load() {
      var view = map.getBounds();
      if (state.pending) { state.again = true; return; }
      if (state.loaded && state.loaded.contains(view)) { relabel(); return; }
      state.pending = true;
      map.getContainer().dataset.baseLayersPending = "true"; // tests leave the page after it
      var box = view.pad(PAD), sw = box.getSouthWest(), ne = box.getNorthEast();
      var lon = (sw.lng + ne.lng) / 2, lat = (sw.lat + ne.lat) / 2;
      var dx = Math.min((ne.lng - sw.lng) / 2, MAX_SPAN / 2), dy = Math.min((ne.lat - sw.lat) / 2, MAX_SPAN / 2);
      var bbox = [lon - dx, lat - dy, lon + dx, lat + dy].map(function (v) { return v.toFixed(6); }).join(",");
      var asked = L.latLngBounds([lat - dy, lon - dx], [lat + dy, lon + dx]);
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "bbox=" + bbox, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error("base layers " + r.status); } return r.json(); })
        .then(function (data) { state.loaded = data.truncated ? null : asked; draw(data); })
        .catch(function () { map.getContainer().dataset.baseLayers = "failed"; })
        .then(function () {
          state.pending = false;
          delete map.getContainer().dataset.baseLayersPending;
          if (state.again) { state.again = false; load(); }
        });
    }

    map.whenReady(load);
    map.on("moveend", load);
    return state;
  }

  window.wanggeBaseLayers = { attach: attach };
  if (URL_DEFAULT) {
    L.Map.addInitHook(function () { attach(this, URL_DEFAULT); });
  }
})();
