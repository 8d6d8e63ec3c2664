/* Case pins on the office map (issue 14, item 4). Each pin is coloured by the case's state;
   pins that sit close are grouped by Leaflet.markercluster (a count on a ring showing the mix
   of states), a click zooms in, and pins still together at the last zoom (one building) fan
   out. A legend (map-legend.js) names the colours and counts them.

   A case title is data: the popup is built from text nodes and the pin's title is a DOM
   property, never parsed HTML. The page marks `wangge:cases-drawn` (performance.mark) and sets
   data-cases-drawn on the map once every pin is in, for people reading the DOM and the bench. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var COLOURS = {
    reported: "#8250df", opened: "#0969da", dispatched: "#bf8700", handling: "#d1242f",
    handled: "#1a7f37", closed: "#57606a", evaluated: "#24292f", cancelled: "#afb8c1"
  };
  var UNKNOWN = "#6e7781";
  var MAX_ZOOM = 19; // the clusterer needs a last zoom; without tiles Leaflet has none
  var F = window.wanggeMapFeatures; // map-features.js: one feature at a time, text labels

  function colourOf(state) { return COLOURS[state] || UNKNOWN; }

  function settings() {
    var el = document.getElementById("case-pins");
    var parsed = el ? JSON.parse(el.textContent) : {};
    return { states: parsed.states || [], words: parsed.words || {} };
  }

  /* A pin: a round badge in its state's colour. A div icon, so keyboard users can reach it. */
  var PinIcon = L.DivIcon.extend({
    options: { className: "case-pin", iconSize: [18, 18], state: "" },
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.style.backgroundColor = colourOf(this.options.state);
      div.dataset.state = this.options.state;
      return div;
    }
  });

  /* A group: the count on a ring whose slices are the shares of each state inside. */
  var GroupIcon = L.DivIcon.extend({
    options: { className: "case-cluster", ring: "", count: 0, words: "" },
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.style.background = this.options.ring;
      var count = L.DomUtil.create("span", "case-cluster-count", div);
      count.textContent = String(this.options.count);
      L.DomUtil.create("span", "visually-hidden", div).textContent = " " + this.options.words;
      return div;
    }
  });

  function groupIcon(order, words) {
    return function (cluster) {
      var counts = {}, total = 0, at = 0, stops = [];
      cluster.getAllChildMarkers().forEach(function (m) {
        counts[m.options.state] = (counts[m.options.state] || 0) + 1;
        total += 1;
      });
      order.concat(Object.keys(counts).filter(function (s) { return order.indexOf(s) < 0; }))
        .forEach(function (state) {
          if (!counts[state]) { return; }
          var to = at + (counts[state] / total) * 360;
          stops.push(colourOf(state) + " " + at.toFixed(1) + "deg " + to.toFixed(1) + "deg");
          at = to;
        });
      var size = total < 10 ? 34 : total < 100 ? 40 : total < 1000 ? 46 : 52;
      return new GroupIcon({
        ring: "conic-gradient(" + stops.join(", ") + ")", count: total, words: words,
        iconSize: [size, size]
      });
    };
  }

  function popup(feature, link, stateName) {
    var p = feature.properties || {}, box = document.createElement("div"), a = document.createElement("a");
    a.href = link(feature.id);
    a.textContent = p.number + " " + p.title;
    box.appendChild(a);
    box.appendChild(F.label(stateName, "div")).className = "muted small";
    return box;
  }

  /* The case pins of `map`: returns {show(featureCollection), group, legend}.
     `link(id)` gives a case's page. */
  function casePins(map, link) {
    var config = settings(), names = {}, order = [], el = map.getContainer(), shown = -1;
    config.states.forEach(function (s) { names[s.value] = s.label; order.push(s.value); });
    if (!isFinite(map.getMaxZoom())) { map.setMaxZoom(MAX_ZOOM); }
    var group = L.markerClusterGroup({
      chunkedLoading: true, // 5,000 pins go in in slices: the page answers meanwhile
      maxClusterRadius: 50,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      spiderLegPolylineOptions: { weight: 1.5, color: "#24292f", opacity: 0.5 },
      iconCreateFunction: groupIcon(order, config.words.cases || ""),
      chunkProgress: function (done, total) {
        if (done < total || shown < 0) { return; } // also called when the group joins the map
        // the clusterer adds the visible pins right after this call, in the same task
        var drawn = shown;
        shown = -1;
        Promise.resolve().then(function () {
          el.dataset.casesDrawn = String(drawn);
          if (window.performance && performance.mark) { performance.mark("wangge:cases-drawn"); }
        });
      }
    }).addTo(map);
    var legend = window.wanggeMapLegend ? window.wanggeMapLegend.create(config, colourOf).addTo(map) : null;

    function pin(feature, at) {
      var p = feature.properties || {}, state = String(p.status || ""), name = names[state] || state;
      return L.marker(at, {
        icon: new PinIcon({ state: state }), state: state, riseOnHover: true,
        title: p.number + " " + p.title + " · " + name // a DOM property: text, never markup
      }).bindPopup(function () { return popup(feature, link, name); });
    }

    function show(collection) {
      var pins = [], counts = {};
      group.clearLayers();
      (collection && Array.isArray(collection.features) ? collection.features : []).forEach(function (f) {
        // each case in its own try: one bad row (half a point, no geometry) is skipped
        var c = f && f.geometry && f.geometry.type === "Point" ? f.geometry.coordinates : null;
        var at = c ? F.latLng(c[1], c[0]) : null;
        if (!at) { F.skip(map, "a case without a whole point", f); return; }
        var made = F.drawOne(map, f, function () { return pin(f, at); });
        if (made) { pins.push(made); counts[made.options.state] = (counts[made.options.state] || 0) + 1; }
      });
      shown = pins.length;
      if (legend) { legend.update(counts); }
      group.addLayers(pins);
    }

    return { show: show, group: group, legend: legend };
  }

  window.wanggeMapMarkers = { casePins: casePins, colourOf: colourOf };
})();
