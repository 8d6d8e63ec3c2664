/* 派遣 forms (intake and case page): the person list shows the chosen unit's people only;
   派遣 to nobody is refused before the form leaves (the server refuses it too). */
(function () {
  "use strict";

  function wire(form) {
    var unit = form.querySelector("select[name=unit_id]");
    var person = form.querySelector("select[name=assignee_id]");
    if (!unit || !person) { return; }
    var hint = form.querySelector("[data-unit-empty]");
    function filter() {
      var chosen = unit.value, shown = 0;
      Array.prototype.forEach.call(person.options, function (o) {
        if (!o.value) { return; }
        var keep = !chosen || o.dataset.unit === chosen;
        o.hidden = !keep;
        o.disabled = !keep;
        if (keep) { shown += 1; } else if (o.selected) { person.value = ""; }
      });
      if (hint) { hint.hidden = !chosen || shown > 0; }
    }
    unit.addEventListener("change", filter);
    filter();
    form.addEventListener("submit", function (e) {
      var active = form.querySelector("[data-dispatch-active]");
      if (active && !active.checked) { unit.setCustomValidity(""); return; }
      if (!unit.value && !person.value) {
        unit.setCustomValidity(unit.dataset.nobody || "");
        unit.reportValidity();
        e.preventDefault();
      } else {
        unit.setCustomValidity("");
      }
    });
    unit.addEventListener("change", function () { unit.setCustomValidity(""); });
    person.addEventListener("change", function () { unit.setCustomValidity(""); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-dispatch]"), wire);
  });
})();
