/* The legend of the office map's case pins (issue 14, item 4): a Leaflet control listing each
   state's colour, its name in the reader's language and how many pins of it are on the map.
   Names come from the page (#case-pins, server/mapview/markers.py) and go in as text nodes;
   colours are set through the CSSOM, which the Content-Security-Policy allows. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var NARROW_PX = 480; // below this the legend starts folded: on a phone the map comes first

  var Legend = L.Control.extend({
    options: { position: "topright" }, // the attribution takes the bottom on a phone

    initialize: function (settings, colourOf, options) {
      L.setOptions(this, options);
      this._settings = settings;
      this._colourOf = colourOf;
      this._counts = {};
    },

    onAdd: function (map) {
      var box = L.DomUtil.create("details", "map-legend");
      box.open = map.getSize().x >= NARROW_PX;
      var summary = L.DomUtil.create("summary", "", box);
      summary.textContent = this._settings.words.legend || "";
      this._total = L.DomUtil.create("span", "map-legend-count", summary);
      this._list = L.DomUtil.create("ul", "", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._draw();
      return box;
    },

    /* Show these counts ({state: pins}); states without pins stay listed, greyed. */
    update: function (counts) {
      this._counts = counts || {};
      if (this._list) { this._draw(); }
      return this;
    },

    _draw: function () {
      var counts = this._counts, colourOf = this._colourOf, list = this._list, total = 0;
      list.replaceChildren();
      this._settings.states.forEach(function (state) {
        var n = counts[state.value] || 0;
        total += n;
        var item = L.DomUtil.create("li", n ? "" : "map-legend-none", list);
        item.dataset.state = state.value;
        L.DomUtil.create("span", "map-legend-dot", item).style.backgroundColor = colourOf(state.value);
        L.DomUtil.create("span", "map-legend-name", item).textContent = state.label;
        L.DomUtil.create("span", "map-legend-count", item).textContent = String(n);
      });
      this._total.textContent = String(total);
    }
  });

  window.wanggeMapLegend = {
    create: function (settings, colourOf, options) { return new Legend(settings, colourOf, options); }
  };
})();
