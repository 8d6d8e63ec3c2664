/* Drawing GeoJSON on the Leaflet maps one feature at a time (issue 12, item 5).
   A bad feature (no geometry, a missing, NaN or infinite coordinate, or one Leaflet refuses)
   is skipped, counted on the map's element (data-skipped) and logged with console.warn; the
   others still draw. Labels are text nodes, never HTML: a name from an uploaded file is data. */
(function () {
  "use strict";

  function finitePositions(coords) {
    if (!Array.isArray(coords) || coords.length === 0) { return false; }
    if (typeof coords[0] === "number" || coords[0] === null) {
      return coords.length >= 2 && coords.every(function (v) { return typeof v === "number" && isFinite(v); });
    }
    return coords.every(finitePositions);
  }

  /* Whether a GeoJSON geometry has only finite positions (a collection: each member). */
  function usableGeometry(g) {
    if (!g || typeof g !== "object") { return false; }
    if (g.type === "GeometryCollection") {
      return Array.isArray(g.geometries) && g.geometries.length > 0 && g.geometries.every(usableGeometry);
    }
    return finitePositions(g.coordinates);
  }

  function skip(map, why, feature) {
    var el = map.getContainer();
    el.dataset.skipped = String((parseInt(el.dataset.skipped || "0", 10) || 0) + 1);
    console.warn("map: a feature was skipped (" + why + ")", feature && feature.id);
  }

  /* Add each feature of `collection` to the L.geoJSON `layer`, each in its own try. */
  function addFeatures(map, layer, collection) {
    var features = collection && Array.isArray(collection.features) ? collection.features : [];
    features.forEach(function (feature) {
      if (!feature || !usableGeometry(feature.geometry)) { skip(map, "no usable geometry", feature); return; }
      if (!feature.properties || typeof feature.properties !== "object") { feature.properties = {}; }
      try {
        layer.addData(feature);
      } catch (error) {
        skip(map, error && error.message, feature);
      }
    });
    return layer;
  }

  /* A whole point [lat, lon] from two values, or null (then the caller skips it). */
  function latLng(lat, lon) {
    return typeof lat === "number" && typeof lon === "number" && isFinite(lat) && isFinite(lon)
      && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? [lat, lon] : null;
  }

  /* Draw one thing (a marker, a pin) in its own try; a failure is a skip, not a dead map. */
  function drawOne(map, feature, draw) {
    try {
      return draw();
    } catch (error) {
      skip(map, error && error.message, feature);
      return null;
    }
  }

  /* A label for bindTooltip / bindPopup: a text node inside an element, never parsed. */
  function label(text, tag) {
    var node = document.createElement(tag || "span");
    node.textContent = text == null ? "" : String(text);
    return node;
  }

  window.wanggeMapFeatures = {
    addFeatures: addFeatures, usableGeometry: usableGeometry, latLng: latLng,
    drawOne: drawOne, skip: skip, label: label
  };
})();
