// Inputs marked data-count show their limit from the start and count as the resident types
// ("12/2000"), so nobody meets the limit by surprise. No words: the numbers read in any language.
(function () {
  for (const field of document.querySelectorAll('[data-count][maxlength]')) {
    const max = Number(field.getAttribute('maxlength'));
    const counter = document.createElement('span');
    counter.className = 'counter small muted';
    counter.setAttribute('aria-live', 'polite');
    const update = () => {
      const used = field.value.length;
      counter.textContent = `${used}/${max}`;
      counter.classList.toggle('near', used >= max * 0.9);
    };
    field.addEventListener('input', update);
    field.after(counter);
    update();
  }
})();
