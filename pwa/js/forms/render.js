// Renders a form definition (docs/forms.md) in a browser: the office editor's phone preview
// and the worker app use it. No build step, no framework; styles in ./forms.css.
//
//   const form = renderForm(container, definition, { locale: 'zh', values: {}, onChange });
//   form.values()    → the answers of the questions asked, by name (what the server keeps)
//   form.problems()  → [{ name, code, message }] for the questions asked (codes of
//                      server/forms/problems.py: required, wrong_type, below_min, …)
//   form.showProblems() marks every problem, also on questions not touched yet
//   form.destroy()
//
// Relevance is evaluated as answers change, in form order (./conditions.js, the port of
// server/forms/conditions.py): a question that stops being asked is hidden and its answer
// cleared, as server/forms/answers.py drops answers to questions not asked.
// Optional hooks: photoId(file) and signatureId(canvas) → Promise<string> (the stored id;
// a random UUID placeholder without them), locate() → Promise<{lat, lon, accuracy_m}>.

import { relevantQuestions } from './conditions.js';
import { uuid } from '../uuid.js';

const WORDS = {
  zh: {
    yes: '是', no: '否', required: '必答', requiredMark: '（必答）', range: '范围', atLeast: '不小于', atMost: '不大于',
    photo: '拍照或选择照片', retake: '重拍', remove: '删除', photoAlt: '所拍照片',
    locate: '获取当前位置', locating: '正在定位…', relocate: '重新定位',
    located: (l) => `纬度 ${l.lat.toFixed(6)}，经度 ${l.lon.toFixed(6)}` + (l.accuracy_m != null ? `（精度约 ${Math.round(l.accuracy_m)} 米）` : ''),
    noLocation: '无法获取位置，请检查定位权限后重试。',
    sign: '请在框内签名', clear: '清除签名', signed: '已签名',
    msg: {
      required: () => '此题必答。',
      integer: () => '请填写整数。',
      decimal: () => '请填写数字。',
      below_min: (d) => `${d.value} 小于最小值 ${d.min}。`,
      above_max: (d) => `${d.value} 大于最大值 ${d.max}。`,
      bad_date: (d) => `“${d.value}”不是有效日期（YYYY-MM-DD）。`,
    },
  },
  en: {
    yes: 'Yes', no: 'No', required: 'required', requiredMark: '(required)', range: 'Range', atLeast: 'at least', atMost: 'at most',
    photo: 'Take or choose a photo', retake: 'Retake', remove: 'Remove', photoAlt: 'Photo taken',
    locate: 'Take my position', locating: 'Locating…', relocate: 'Locate again',
    located: (l) => `Lat ${l.lat.toFixed(6)}, lon ${l.lon.toFixed(6)}` + (l.accuracy_m != null ? ` (about ${Math.round(l.accuracy_m)} m)` : ''),
    noLocation: 'The position could not be taken; check the location permission and try again.',
    sign: 'Sign in the box', clear: 'Clear signature', signed: 'Signed',
    msg: {
      required: () => 'This question must be answered.',
      integer: () => 'Enter a whole number.',
      decimal: () => 'Enter a number.',
      below_min: (d) => `${d.value} is below the minimum ${d.min}.`,
      above_max: (d) => `${d.value} is above the maximum ${d.max}.`,
      bad_date: (d) => `"${d.value}" is not a valid date (YYYY-MM-DD).`,
    },
  },
};
const MAX_TEXT = 2000;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
let rendered = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function stylesheet() {
  const href = new URL('./forms.css', import.meta.url).href;
  if ([...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === href)) return;
  document.head.append(el('link', { rel: 'stylesheet', href }));
}

function locateWithBrowser() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error('no geolocation')); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy }),
      reject,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 },
    );
  });
}

const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** Render `definition` into `container`; see the top of this file. */
export function renderForm(container, definition, options = {}) {
  stylesheet();
  const locale = options.locale === 'en' ? 'en' : 'zh';
  const words = WORDS[locale];
  const say = (text) => (text ? (locale === 'en' && text.en ? text.en : text.zh || '') : '');
  const prefix = `wf${++rendered}`;
  const questions = Array.isArray(definition && definition.questions) ? definition.questions : [];
  const answers = {}; // name → clean answer
  const invalid = {}; // name → { code, data } for text that is not an answer yet
  const touched = new Set();
  const parts = new Map(); // name → { box, problem, reset() }
  const urls = [];
  const pending = new Set(); // photos and signatures still being stored
  const track = async (job) => {
    pending.add(job);
    try { return await job; } finally { pending.delete(job); }
  };
  let showAll = false;
  let asked = [];

  const root = el('div', { class: 'wf-form', lang: locale === 'en' ? 'en' : 'zh-CN' });
  if (options.showTitle !== false && definition && definition.title) {
    root.append(el('h2', { class: 'wf-title', text: say(definition.title) }));
  }

  function changed(name) {
    touched.add(name);
    refresh();
    if (options.onChange) options.onChange(values());
  }

  function set(name, value) {
    delete invalid[name];
    if (empty(value)) delete answers[name];
    else answers[name] = value;
    changed(name);
  }

  function setInvalid(name, code, data) {
    delete answers[name];
    invalid[name] = { code, data };
    changed(name);
  }

  for (const q of questions) {
    if (!q || typeof q.name !== 'string') continue;
    const id = `${prefix}-${q.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const grouped = ['yes_no', 'select_one', 'select_multiple'].includes(q.type);
    const box = el(grouped ? 'fieldset' : 'div', { class: `wf-q wf-type-${q.type}`, 'data-name': q.name });
    const title = el(grouped ? 'legend' : 'label', { class: 'wf-label', id: `${id}-label` }, say(q.label) || q.name);
    if (!grouped && !['photo', 'location', 'signature'].includes(q.type)) title.setAttribute('for', id);
    if (q.required) {
      title.append(' ', el('span', { class: 'wf-required', 'aria-hidden': 'true', title: words.required, text: '*' }));
      title.append(el('span', { class: 'wf-sr', text: words.requiredMark }));
    }
    box.append(title);
    if (q.hint && say(q.hint)) box.append(el('p', { class: 'wf-hint', id: `${id}-hint`, text: say(q.hint) }));
    const problem = el('p', { class: 'wf-problem', id: `${id}-problem`, role: 'alert', hidden: true });
    const widget = WIDGETS[q.type] || WIDGETS.text;
    const reset = widget({ q, id, box, words, say, set, setInvalid, options, urls, track, initial: (options.values || {})[q.name] });
    box.append(problem);
    root.append(box);
    parts.set(q.name, { box, problem, reset, q });
  }

  // Initial answers: kept only where they fit (the widgets read them as they were built).
  for (const q of questions) {
    const v = (options.values || {})[q.name];
    if (q && !empty(v) && parts.has(q.name)) answers[q.name] = v;
  }
  container.append(root);
  refresh();

  function refresh() {
    asked = relevantQuestions(questions.filter((q) => q && parts.has(q.name)), answers);
    const shown = new Set(asked);
    for (const [name, part] of parts) {
      const isShown = shown.has(name);
      part.box.hidden = !isShown;
      if (!isShown && (name in answers || name in invalid)) {
        delete answers[name];
        delete invalid[name];
        touched.delete(name);
        part.reset();
      }
    }
    const found = new Map(problems().map((p) => [p.name, p]));
    for (const [name, part] of parts) {
      const p = found.get(name);
      const visible = p && (showAll || (touched.has(name) && p.code !== 'required'));
      part.problem.hidden = !visible;
      part.problem.textContent = visible ? p.message : '';
      part.box.classList.toggle('wf-has-problem', Boolean(visible));
    }
  }

  function values() {
    const out = {};
    for (const name of asked) if (name in answers) out[name] = answers[name];
    return out;
  }

  function problems() {
    const out = [];
    for (const name of asked) {
      const q = parts.get(name).q;
      const bad = invalid[name];
      if (bad) {
        out.push({ name, code: bad.code, message: words.msg[bad.data.kind || bad.code](bad.data) });
        continue;
      }
      const v = answers[name];
      if (empty(v)) {
        if (q.required) out.push({ name, code: 'required', message: words.msg.required() });
        continue;
      }
      if ((q.type === 'integer' || q.type === 'decimal') && typeof v === 'number') {
        if (typeof q.min === 'number' && v < q.min) out.push({ name, code: 'below_min', message: words.msg.below_min({ value: v, min: q.min }) });
        else if (typeof q.max === 'number' && v > q.max) out.push({ name, code: 'above_max', message: words.msg.above_max({ value: v, max: q.max }) });
      }
    }
    return out;
  }

  return {
    values,
    problems,
    showProblems() { showAll = true; refresh(); },
    /** Resolves when every photo or signature being stored has its id (save waits on it:
     * a tap on save while a photo is still being shrunk and hashed must not drop it). */
    async ready() { while (pending.size) await Promise.allSettled([...pending]); },
    destroy() {
      for (const url of urls) URL.revokeObjectURL(url);
      root.remove();
    },
  };
}

/**
 * Save `rendered` (a renderForm) when `form` is submitted: once every photo being stored has
 * its id, with every problem marked; `invalid()` if some remain, else `save(values)`. A tap
 * while waiting or saving does nothing (a second answer, or one without its photo, never goes).
 */
export function saveWhenReady(form, rendered, { invalid, save }) {
  let saving = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    saving = true;
    try {
      await rendered.ready();
      rendered.showProblems();
      if (rendered.problems().length) invalid();
      else await save(rendered.values());
    } finally {
      saving = false;
    }
  });
}

// --- widgets: each builds its inputs into `box`, and returns reset() (clears them) ----------

function choiceList(ctx, multiple) {
  const { q, id, box, say, set } = ctx;
  const initial = ctx.initial;
  const list = el('div', { class: 'wf-choices' });
  const inputs = [];
  (q.choices || []).forEach((choice, i) => {
    const input = el('input', {
      type: multiple ? 'checkbox' : 'radio', name: id, id: `${id}-${i}`, value: choice.value,
    });
    if (multiple ? Array.isArray(initial) && initial.includes(choice.value) : initial === choice.value) input.checked = true;
    input.addEventListener('change', () => {
      if (multiple) set(q.name, inputs.filter((x) => x.checked).map((x) => x.value));
      else set(q.name, input.value);
    });
    inputs.push(input);
    list.append(el('label', { class: 'wf-choice', for: `${id}-${i}` }, input, el('span', { text: say(choice.label) || choice.value })));
  });
  box.append(list);
  return () => { for (const input of inputs) input.checked = false; };
}

function numberField(ctx) {
  const { q, id, box, words, set, setInvalid } = ctx;
  const integer = q.type === 'integer';
  const input = el('input', {
    id, type: 'text', inputmode: integer ? 'numeric' : 'decimal', autocomplete: 'off', 'aria-describedby': `${id}-problem`,
  });
  if (typeof ctx.initial === 'number') input.value = String(ctx.initial);
  input.addEventListener('input', () => {
    const text = input.value.trim();
    if (text === '') set(q.name, null);
    else if ((integer ? INTEGER : DECIMAL).test(text)) set(q.name, Number(text));
    else setInvalid(q.name, 'wrong_type', { kind: integer ? 'integer' : 'decimal' });
  });
  const row = el('div', { class: 'wf-number' }, input);
  if (q.unit) row.append(el('span', { class: 'wf-unit', text: q.unit }));
  box.append(row);
  const low = typeof q.min === 'number' ? q.min : null;
  const high = typeof q.max === 'number' ? q.max : null;
  if (low !== null || high !== null) {
    const unit = q.unit ? ` ${q.unit}` : '';
    let text;
    if (low !== null && high !== null) text = `${words.range} ${low}–${high}${unit}`;
    else if (low !== null) text = `${words.atLeast} ${low}${unit}`;
    else text = `${words.atMost} ${high}${unit}`;
    box.append(el('p', { class: 'wf-hint wf-range', text }));
  }
  return () => { input.value = ''; };
}

const WIDGETS = {
  yes_no(ctx) {
    const { q, box, words, set } = ctx;
    const row = el('div', { class: 'wf-yesno', role: 'group' });
    const buttons = ['yes', 'no'].map((value) => {
      const button = el('button', { type: 'button', class: `wf-big wf-${value}`, 'data-value': value, 'aria-pressed': ctx.initial === value ? 'true' : 'false', text: words[value] });
      button.addEventListener('click', () => {
        const on = button.getAttribute('aria-pressed') !== 'true';
        for (const b of buttons) b.setAttribute('aria-pressed', 'false');
        button.setAttribute('aria-pressed', on ? 'true' : 'false');
        set(q.name, on ? value : null);
      });
      return button;
    });
    row.append(...buttons);
    box.append(row);
    return () => { for (const b of buttons) b.setAttribute('aria-pressed', 'false'); };
  },
  select_one: (ctx) => choiceList(ctx, false),
  select_multiple: (ctx) => choiceList(ctx, true),
  integer: numberField,
  decimal: numberField,
  date(ctx) {
    const { q, id, box, set, setInvalid } = ctx;
    const input = el('input', { id, type: 'date', 'aria-describedby': `${id}-problem` });
    if (typeof ctx.initial === 'string') input.value = ctx.initial;
    input.addEventListener('input', () => {
      if (input.value === '' && input.validity && input.validity.badInput) setInvalid(q.name, 'bad_date', { value: '' });
      else set(q.name, input.value);
    });
    box.append(input);
    return () => { input.value = ''; };
  },
  text(ctx) {
    const { q, id, box, set } = ctx;
    const input = el('textarea', { id, rows: 3, maxlength: MAX_TEXT, 'aria-describedby': `${id}-problem` });
    if (typeof ctx.initial === 'string') input.value = ctx.initial;
    input.addEventListener('input', () => set(q.name, input.value.trim() === '' ? null : input.value));
    box.append(input);
    return () => { input.value = ''; };
  },
  photo(ctx) {
    const { q, id, box, words, set, options, urls, track } = ctx;
    // No `capture`: the phone offers the camera or the gallery, as the label says.
    const input = el('input', { id, type: 'file', accept: 'image/*', class: 'wf-file' });
    const pick = el('label', { class: 'wf-big wf-pick', for: id, text: words.photo });
    const preview = el('img', { class: 'wf-preview', alt: words.photoAlt, hidden: true });
    const remove = el('button', { type: 'button', class: 'wf-small', hidden: true, text: words.remove });
    const clear = () => {
      input.value = '';
      preview.hidden = true;
      preview.removeAttribute('src');
      remove.hidden = true;
      pick.textContent = words.photo;
    };
    input.addEventListener('change', async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      const url = URL.createObjectURL(file);
      urls.push(url);
      preview.src = url;
      preview.hidden = false;
      remove.hidden = false;
      pick.textContent = words.retake;
      set(q.name, await track(options.photoId ? options.photoId(file) : Promise.resolve(uuid())));
    });
    remove.addEventListener('click', () => { clear(); set(q.name, null); });
    box.append(el('div', { class: 'wf-photo-row' }, input, pick, remove), preview);
    return clear;
  },
  location(ctx) {
    const { q, box, words, set, options } = ctx;
    const button = el('button', { type: 'button', class: 'wf-big wf-locate', text: words.locate });
    const shown = el('p', { class: 'wf-located', 'aria-live': 'polite' });
    const show = (l) => { shown.textContent = words.located(l); button.textContent = words.relocate; };
    if (ctx.initial && typeof ctx.initial.lat === 'number') show(ctx.initial);
    button.addEventListener('click', async () => {
      button.disabled = true;
      shown.textContent = words.locating;
      try {
        const found = await (options.locate || locateWithBrowser)();
        const value = { lat: found.lat, lon: found.lon };
        if (typeof found.accuracy_m === 'number') value.accuracy_m = found.accuracy_m;
        show(value);
        set(q.name, value);
      } catch (error) {
        shown.textContent = words.noLocation;
      } finally {
        button.disabled = false;
      }
    });
    box.append(button, shown);
    return () => { shown.textContent = ''; button.textContent = words.locate; };
  },
  signature(ctx) {
    const { q, box, words, set, options } = ctx;
    const canvas = el('canvas', { class: 'wf-pad', width: 600, height: 240, 'aria-label': words.sign, role: 'img' });
    const clearButton = el('button', { type: 'button', class: 'wf-small', text: words.clear });
    const pen = canvas.getContext('2d');
    let drawing = false;
    let inked = false;
    const at = (event) => {
      const r = canvas.getBoundingClientRect();
      return [(event.clientX - r.left) * (canvas.width / r.width), (event.clientY - r.top) * (canvas.height / r.height)];
    };
    canvas.addEventListener('pointerdown', (event) => {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      pen.lineWidth = 4;
      pen.lineCap = 'round';
      pen.strokeStyle = '#1f2328';
      pen.beginPath();
      pen.moveTo(...at(event));
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!drawing) return;
      pen.lineTo(...at(event));
      pen.stroke();
      inked = true;
    });
    const end = async () => {
      if (!drawing) return;
      drawing = false;
      if (inked) set(q.name, options.signatureId ? await options.signatureId(canvas) : uuid());
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    const clear = () => { pen.clearRect(0, 0, canvas.width, canvas.height); inked = false; };
    clearButton.addEventListener('click', () => { clear(); set(q.name, null); });
    box.append(el('p', { class: 'wf-hint', text: words.sign }), canvas, clearButton);
    return clear;
  },
};
