// Small form helpers for every back-office page (CSP: no inline handlers).
// <select data-autosubmit> submits its form when changed.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.submit();
  }
});

// Text fields marked data-count show their limit from the start and count as one types
// ("12/2000", red from 90 %), so nobody meets the limit by surprise. Code points, as the
// server counts them. No words: the numbers read in any language.
(function () {
  for (const field of document.querySelectorAll("[data-count][maxlength]")) {
    const max = Number(field.getAttribute("maxlength"));
    if (!(max > 0)) continue;
    const counter = document.createElement("span");
    counter.className = "counter small muted";
    counter.setAttribute("aria-live", "polite");
    const update = () => {
      const used = Array.from(field.value).length;
      counter.textContent = used + "/" + max;
      counter.classList.toggle("near", used >= max * 0.9);
    };
    field.addEventListener("input", update);
    field.after(counter);
    update();
  }
})();
