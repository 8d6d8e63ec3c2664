// Small form helpers for every back-office page (CSP: no inline handlers).
// <select data-autosubmit> submits its form when changed.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.submit();
  }
});
