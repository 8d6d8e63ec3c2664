// The office's form editor (server/forms/templates/forms/editor.html): edits the definition
// JSON of one draft (docs/forms.md), shows it at phone size with the worker app's renderer as
// it changes, and saves it to the server, which checks it (server/forms/definition.py) and
// answers the problems, each shown beside its question. A published version: read-only.
import { renderForm } from '/app/js/forms/render.js';
import { parse, ConditionError } from '/app/js/forms/conditions.js';

const setup = JSON.parse(document.getElementById('form-setup').textContent);
const W = setup.words;
const CHOICE = ['select_one', 'select_multiple'];
const NUMBER = ['integer', 'decimal'];
const CASE = ['yes_no', ...CHOICE];
const editorRoot = document.getElementById('editor-root');
const previewRoot = document.getElementById('preview-root');
const status = document.getElementById('editor-status');
const csrf = document.getElementById('form-editor').dataset.csrf;

let def = structuredClone(setup.definition);
let problems = []; // the server's, from the last save
let dirty = false;
let preview = null;
let uid = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'value') node.value = value;
    else if (key === 'checked') node.checked = Boolean(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** A labelled input bound to get()/put(); `rebuild` redraws the editor after a change. */
function field(label, get, put, { kind = 'input', rebuild = false, attrs = {}, help = '' } = {}) {
  const id = attrs.id || `f${++uid}`;
  const input = el(kind, { ...attrs, id, disabled: setup.readonly });
  if (kind !== 'select') input.value = get() ?? '';
  const wrap = el('div', { class: 'field' }, el('label', { for: id, text: label }), input);
  if (help) wrap.append(el('p', { class: 'muted small', text: help }));
  const handler = () => { put(input.value); changed(rebuild); };
  input.addEventListener(kind === 'select' ? 'change' : 'input', handler);
  return { wrap, input };
}

function text(obj, key, lang) {
  return (obj[key] && obj[key][lang]) || '';
}

function setText(obj, key, lang, value) {
  const next = { ...(obj[key] || { zh: '' }) };
  if (value) next[lang] = value; else if (lang === 'en') delete next.en; else next.zh = '';
  obj[key] = next;
}

function option(value, label, selected) {
  return el('option', { value, text: label, selected: selected ? 'selected' : null });
}

function select(label, choices, get, put, rebuild = false) {
  const made = field(label, get, put, { kind: 'select', rebuild });
  for (const [value, name] of choices) made.input.append(option(value, name, get() === value));
  return made;
}

function freshName() {
  const taken = new Set(def.questions.map((q) => q.name));
  let n = def.questions.length + 1;
  while (taken.has(`q${n}`)) n += 1;
  return `q${n}`;
}

function setType(q, type) {
  q.type = type;
  if (CHOICE.includes(type)) {
    if (!Array.isArray(q.choices) || q.choices.length === 0) {
      q.choices = [{ value: 'a', label: { zh: '' } }, { value: 'b', label: { zh: '' } }];
    }
  } else delete q.choices;
  if (!NUMBER.includes(type)) { delete q.min; delete q.max; delete q.unit; }
  if (!CASE.includes(type)) delete q.opens_case;
  else if (q.opens_case) q.opens_case.when = [];
}

function valuesOf(q) {
  return q.type === 'yes_no' ? [['yes', W.yes], ['no', W.no]]
    : (q.choices || []).map((c) => [c.value, c.label.zh || c.value]);
}

function numberOrText(value) {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) && /^-?\d+(\.\d+)?$/.test(trimmed) ? n : trimmed;
}

function choicesEditor(q) {
  const box = el('fieldset', { class: 'choices-editor' }, el('legend', { text: W.choices }));
  q.choices.forEach((choice, i) => {
    const row = el('div', { class: 'choice-row' });
    row.append(
      field(W.value, () => choice.value, (v) => { choice.value = v; }, { attrs: { translate: 'no', class: 'choice-value' } }).wrap,
      field(W.choiceZh, () => text(choice, 'label', 'zh'), (v) => setText(choice, 'label', 'zh', v)).wrap,
      field(W.choiceEn, () => text(choice, 'label', 'en'), (v) => setText(choice, 'label', 'en', v)).wrap,
    );
    if (!setup.readonly) {
      const remove = el('button', { type: 'button', class: 'secondary', text: W.remove });
      remove.addEventListener('click', () => { q.choices.splice(i, 1); changed(true); });
      row.append(remove);
    }
    box.append(row);
  });
  if (!setup.readonly) {
    const add = el('button', { type: 'button', class: 'secondary', text: W.addChoice });
    add.addEventListener('click', () => {
      q.choices.push({ value: `c${q.choices.length + 1}`, label: { zh: '' } });
      changed(true);
    });
    box.append(add);
  }
  return box;
}

function caseEditor(q, index) {
  const box = el('fieldset', { class: 'case-editor' }, el('legend', { text: W.opensCase }));
  const rule = q.opens_case;
  const items = [['', W.none], ...setup.catalogue.map((i) => [i.code, `${i.code} ${i.name}`])];
  if (rule && !setup.catalogue.some((i) => i.code === rule.catalogue_item)) items.push([rule.catalogue_item, rule.catalogue_item]);
  box.append(select(W.item, items, () => (rule ? rule.catalogue_item : ''), (v) => {
    if (!v) delete q.opens_case;
    else q.opens_case = { ...(q.opens_case || { when: [] }), catalogue_item: v };
  }, true).wrap);
  if (!rule) return box;
  const when = el('fieldset', { class: 'when' }, el('legend', { text: W.when }));
  for (const [value, name] of valuesOf(q)) {
    const id = `f${++uid}`;
    const check = el('input', { type: 'checkbox', id, checked: rule.when.includes(value), disabled: setup.readonly });
    check.addEventListener('change', () => {
      rule.when = valuesOf(q).map(([v]) => v).filter((v) => (v === value ? check.checked : rule.when.includes(v)));
      changed(false);
    });
    when.append(el('label', { class: 'check', for: id }, check, ` ${name}`));
  }
  box.append(when);
  const photos = def.questions.filter((p, i) => p.type === 'photo' && i !== index).map((p) => [p.name, `${p.label.zh || p.name}`]);
  box.append(select(W.photo, [['', W.none], ...photos], () => rule.photo || '', (v) => {
    if (v) rule.photo = v; else delete rule.photo;
  }).wrap);
  box.append(select(W.priority, [['', W.usual], ['urgent', W.urgent], ['high', W.high], ['normal', W.normal]],
    () => rule.priority || '', (v) => { if (v) rule.priority = v; else delete rule.priority; }).wrap);
  return box;
}

function conditionCheck(q) {
  if (!q.relevant) return '';
  try { parse(q.relevant); return ''; } catch (error) {
    if (error instanceof ConditionError) return setup.locale === 'en' ? error.detailEn : error.detailZh;
    throw error;
  }
}

function questionCard(q, index) {
  const card = el('section', { class: 'card question-card', 'data-name': q.name, 'aria-label': W.question.replace('%(n)s', index + 1) });
  const head = el('div', { class: 'question-head' }, el('h2', { class: 'h3', text: `${W.question.replace('%(n)s', index + 1)} · ${W.types[q.type] || q.type}` }));
  if (!setup.readonly) {
    const tools = el('div', { class: 'question-tools' });
    const move = (delta, label) => {
      const button = el('button', { type: 'button', class: 'secondary', text: label, disabled: !def.questions[index + delta] });
      button.addEventListener('click', () => {
        const [moved] = def.questions.splice(index, 1);
        def.questions.splice(index + delta, 0, moved);
        changed(true);
      });
      return button;
    };
    const remove = el('button', { type: 'button', class: 'secondary danger', text: W.removeQuestion });
    remove.addEventListener('click', () => { def.questions.splice(index, 1); changed(true); });
    tools.append(move(-1, W.up), move(1, W.down), remove);
    head.append(tools);
  }
  card.append(head);
  const mine = problems.filter((p) => p.question === q.name);
  if (mine.length) card.append(el('ul', { class: 'error problems', role: 'alert' }, ...mine.map((p) => el('li', { text: p.message }))));
  const row = el('div', { class: 'field-row' });
  row.append(
    field(W.name, () => q.name, (v) => { q.name = v; }, { attrs: { translate: 'no', class: 'q-name' } }).wrap,
    select(W.type, setup.types.map((t) => [t, W.types[t] || t]), () => q.type, (v) => setType(q, v), true).wrap,
  );
  card.append(row);
  card.append(field(W.labelZh, () => text(q, 'label', 'zh'), (v) => setText(q, 'label', 'zh', v), { attrs: { class: 'q-label' } }).wrap);
  card.append(field(W.labelEn, () => text(q, 'label', 'en'), (v) => setText(q, 'label', 'en', v)).wrap);
  const hints = el('div', { class: 'field-row' });
  hints.append(
    field(W.hintZh, () => text(q, 'hint', 'zh'), (v) => setText(q, 'hint', 'zh', v)).wrap,
    field(W.hintEn, () => text(q, 'hint', 'en'), (v) => setText(q, 'hint', 'en', v)).wrap,
  );
  card.append(hints);
  const reqId = `f${++uid}`;
  const req = el('input', { type: 'checkbox', id: reqId, checked: q.required, disabled: setup.readonly, class: 'q-required' });
  req.addEventListener('change', () => { q.required = req.checked; changed(false); });
  card.append(el('label', { class: 'check', for: reqId }, req, ` ${W.required}`));
  if (CHOICE.includes(q.type)) card.append(choicesEditor(q));
  if (NUMBER.includes(q.type)) {
    const nums = el('div', { class: 'field-row' });
    nums.append(
      field(W.min, () => q.min, (v) => { q.min = numberOrText(v); }, { attrs: { inputmode: 'decimal' } }).wrap,
      field(W.max, () => q.max, (v) => { q.max = numberOrText(v); }, { attrs: { inputmode: 'decimal' } }).wrap,
      field(W.unit, () => q.unit, (v) => { q.unit = v || undefined; }, { attrs: { maxlength: 20 } }).wrap,
    );
    card.append(nums);
  }
  const cond = field(W.relevant, () => q.relevant, (v) => { q.relevant = v.trim() ? v : undefined; },
    { attrs: { class: 'q-relevant', translate: 'no', spellcheck: 'false' }, help: W.relevantHelp });
  const condProblem = el('p', { class: 'error condition-problem', role: 'alert', hidden: true });
  const showCondition = () => {
    const message = conditionCheck(q);
    condProblem.hidden = !message;
    condProblem.textContent = message;
  };
  cond.input.addEventListener('input', showCondition);
  showCondition();
  card.append(cond.wrap, condProblem);
  if (CASE.includes(q.type)) card.append(caseEditor(q, index));
  return card;
}

function drawEditor() {
  editorRoot.replaceChildren();
  const head = el('section', { class: 'card' }, el('h2', { text: W.title }));
  const general = problems.filter((p) => !p.question || !def.questions.some((q) => q.name === p.question));
  if (general.length) head.append(el('ul', { class: 'error problems', role: 'alert' }, ...general.map((p) => el('li', { text: p.message }))));
  const titles = el('div', { class: 'field-row' });
  titles.append(
    field(W.titleZh, () => text(def, 'title', 'zh'), (v) => setText(def, 'title', 'zh', v), { attrs: { maxlength: 100, id: 'title-zh' } }).wrap,
    field(W.titleEn, () => text(def, 'title', 'en'), (v) => setText(def, 'title', 'en', v), { attrs: { maxlength: 100 } }).wrap,
  );
  head.append(titles);
  editorRoot.append(head);
  def.questions.forEach((q, i) => editorRoot.append(questionCard(q, i)));
  if (setup.readonly) return;
  const actions = el('div', { class: 'button-row editor-actions' });
  const add = el('button', { type: 'button', class: 'secondary', id: 'add-question', text: W.add });
  add.addEventListener('click', () => {
    def.questions.push({ name: freshName(), type: 'yes_no', label: { zh: '' } });
    changed(true);
    editorRoot.querySelector('.question-card:last-of-type .q-label')?.focus();
  });
  const save = el('button', { type: 'button', class: 'primary', id: 'save-draft', text: W.save });
  save.addEventListener('click', saveDraft);
  actions.append(add, save);
  editorRoot.append(actions);
}

/** The definition as the server wants it: optional parts left out when empty. */
function cleaned() {
  const out = structuredClone(def);
  const tidyText = (obj, key, optional) => {
    const t = obj[key];
    if (!t) return;
    if (!t.en) delete t.en;
    if (optional && !t.zh && !t.en) delete obj[key];
  };
  tidyText(out, 'title', false);
  for (const q of out.questions) {
    tidyText(q, 'label', false);
    tidyText(q, 'hint', true);
    if (!q.required) delete q.required;
    for (const key of ['relevant', 'min', 'max', 'unit']) if (q[key] === undefined || q[key] === '') delete q[key];
    for (const c of q.choices || []) tidyText(c, 'label', false);
  }
  return out;
}

function drawPreview() {
  const kept = preview ? preview.values() : {};
  if (preview) preview.destroy();
  preview = renderForm(previewRoot, cleaned(), { locale: setup.locale === 'en' ? 'en' : 'zh', values: kept });
}

function say(message, kind = '') {
  status.textContent = message;
  status.className = `editor-status ${kind}`;
}

function changed(rebuild) {
  dirty = true;
  say(W.unsaved, 'unsaved');
  if (rebuild) drawEditor();
  drawPreview();
}

async function saveDraft() {
  say(W.saving);
  let answer;
  try {
    answer = await fetch(setup.saveUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify(cleaned()),
    });
  } catch (error) {
    say(W.failed.replace('%(reason)s', String(error)), 'error');
    return;
  }
  const body = await answer.json().catch(() => ({}));
  if (answer.ok) {
    def = body.definition;
    problems = [];
    dirty = false;
    drawEditor();
    drawPreview();
    say(W.saved, 'ok');
    return;
  }
  const found = (body.details && body.details.problems) || [];
  problems = found.map((p) => ({ question: p.question, code: p.code, message: setup.locale === 'en' ? p.message_en : p.message_zh }));
  drawEditor();
  say(found.length ? W.refused : W.failed.replace('%(reason)s', body.detail || answer.status), 'error');
}

document.getElementById('publish-form')?.addEventListener('submit', (event) => {
  if (dirty) {
    event.preventDefault();
    say(W.publishUnsaved, 'error');
  }
});
window.addEventListener('beforeunload', (event) => { if (dirty) event.preventDefault(); });

drawEditor();
drawPreview();
if (setup.readonly) say(W.readonly);
