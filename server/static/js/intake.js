/* Intake form: catalogue item by typing (pinyin initials or Chinese), place by address. */
(function () {
  "use strict";

  function suggest(input, list, render, choose) {
    var timer = null, items = [], active = -1;
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function mark() {
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === active ? "true" : "false");
      });
    }
    function show(data) {
      if (document.activeElement !== input) { return; }  // answered after the field was left
      items = data;
      list.replaceChildren();
      data.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = list.id + "-" + i;
        li.textContent = render(item);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); close(); });
        list.appendChild(li);
      });
      list.hidden = data.length === 0;
      input.setAttribute("aria-expanded", data.length ? "true" : "false");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        fetch(input.dataset.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; }).then(show);
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { active = Math.min(active + 1, items.length - 1); mark(); e.preventDefault(); }
      else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); mark(); e.preventDefault(); }
      else if (e.key === "Enter" && items.length) { choose(items[active >= 0 ? active : 0]); close(); e.preventDefault(); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var cat = document.getElementById("catalogue-search");
    if (cat) {
      suggest(cat, document.getElementById("catalogue-list"),
        function (i) { return i.code + " " + i.name + (i.unit ? " · " + i.unit : ""); },
        function (i) {
          cat.value = i.code + " " + i.name;
          document.getElementById("catalogue_item_id").value = i.id;
          document.getElementById("catalogue_label").value = cat.value;
          var title = document.getElementById("title");
          if (!title.value) { title.value = i.name; }
        });
    }
    var addr = document.getElementById("address");
    if (addr) {
      suggest(addr, document.getElementById("place-list"),
        function (p) { return p.address + " · " + p.cell_code; },
        placeAt);
      // a typed address that names a known place exactly is placed without picking from the list
      addr.addEventListener("change", function () {
        var typed = addr.value.trim();
        if (typed.length < 2) { return; }
        fetch(addr.dataset.url + "?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (found) {
            var same = found.filter(function (p) { return p.address === typed; });
            if (same.length === 1) { placeAt(same[0]); }
          });
      });
    }
    /* "locate me" (map-locate.js): the browser's WGS-84 position fills the form like a click */
    var map = document.getElementById("intake-map");
    if (map) {
      map.addEventListener("wangge:pick", function (e) {
        if (window.wanggeIntakePlace) { placePoint(map, e.detail.lat, e.detail.lon); }
      });
    }
  });

  /* Put the case's point there (hidden lon/lat, pin, "falls in …") at building-level zoom. */
  function placePoint(mapEl, lat, lon) {
    window.wanggeIntakePlace(lat, lon);
    if (window.wanggeMapTools) { window.wanggeMapTools.zoomToBuilding(mapEl, lat, lon); }
  }

  function placeAt(p) {
    var addr = document.getElementById("address"), mapEl = document.getElementById("intake-map");
    addr.value = p.address;
    if (window.wanggeIntakePlace && mapEl && isFinite(p.lat) && isFinite(p.lon) && p.lat !== null) {
      placePoint(mapEl, p.lat, p.lon);
    }
  }
})();
