// The server's checks made before saving: lengths and required texts from the generated
// limits table (js/limits.js, from server/fieldsync/schemas.py), and inputs that show their
// limit and a counter before the user reaches it.
import { LIMITS } from './limits.js';
import { h } from './ui.js';
import { t } from './i18n.js';

/** Length as the server counts it: code points, not UTF-16 units. */
export const length = (text) => [...String(text ?? '')].length;

/** The limits of one mutation's field (`changes.title` for nested ones), or {}. */
export function limitOf(name, field) {
  let node = LIMITS[name] || {};
  for (const part of field.split('.')) node = (node && node[part]) || {};
  return node;
}

/**
 * What the server would refuse in `args` of mutation `name`, before it is saved:
 * [{field, code: 'too_long'|'required', max, n}]; empty when it would pass these checks.
 */
export function problems(name, args, table = LIMITS[name] || {}, prefix = '') {
  const found = [];
  for (const [field, rule] of Object.entries(table)) {
    const value = args ? args[field] : undefined;
    if (rule && typeof rule === 'object' && !('max' in rule || 'min' in rule || 'required' in rule)) {
      if (value && typeof value === 'object') found.push(...problems(name, value, rule, `${prefix}${field}.`));
      continue;
    }
    const n = typeof value === 'string' ? length(value) : 0;
    if ((rule.required || rule.min) && (value == null || (typeof value === 'string' && n < (rule.min || 0)))) {
      found.push({ field: prefix + field, code: 'required', n });
    } else if (rule.max != null && typeof value === 'string' && n > rule.max) {
      found.push({ field: prefix + field, code: 'too_long', max: rule.max, n });
    }
  }
  return found;
}

const fieldName = (field) => t(`field.${field.split('.').pop()}`, {}, field);

/** One line per problem, in words. */
export const describe = (list) => list.map((p) => (p.code === 'required'
  ? t('limit.required', { field: fieldName(p.field) })
  : t('limit.too_long', { field: fieldName(p.field), max: p.max, n: p.n })));

/**
 * A text input or textarea with the server's limit for `name`/`field`: `maxlength`, and a
 * counter "12/200 字" under it, updated as the user types; marked when close to the limit.
 * Returns [control, counter] to place in a form.
 */
export function limited(tag, attrs, name, field, value = '') {
  const { max } = limitOf(name, field);
  const control = h(tag, { ...attrs, ...(max ? { maxlength: max } : {}) }, tag === 'textarea' ? value : null);
  if (tag !== 'textarea' && value) control.value = value;
  if (!max) return [control];
  const counter = h('p', { class: 'counter', id: `${attrs.id}-count`, 'aria-hidden': 'true' });
  control.setAttribute('aria-describedby', counter.id);
  const update = () => {
    const n = length(control.value);
    counter.textContent = t('limit.counter', { n, max });
    counter.classList.toggle('near', n >= max * 0.9);
  };
  control.addEventListener('input', update);
  update();
  return [control, counter];
}

/** Mark the controls of `form` named by `list` (their `name` attribute) and say why. */
export function show(form, list, box) {
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  for (const p of list) {
    const el = form.elements[p.field.split('.').pop()];
    if (el && el.setAttribute) el.setAttribute('aria-invalid', 'true');
  }
  box.replaceChildren(...describe(list).map((line) => h('div', {}, line)));
  if (list.length) box.scrollIntoView({ block: 'center' });
}
