// Outbox and sync: what is waiting, what went, what the server refused and why; a refused
// record can be corrected and sent again, or discarded after a confirmation.
import { h, toast, trackDirty, clean } from '../ui.js';
import { t, fmt, reasonText, lang } from '../i18n.js';
import { all, get } from '../db.js';
import { status, syncNow, onStatus } from '../sync-client.js';
import { onChange, resend, discard } from '../outbox.js';
import { LIMITS } from '../limits.js';
import { limited, problems, describe, show as showProblems } from '../checks.js';
import { renderForm, saveWhenReady } from '../forms/render.js';
import { captureHere } from '../photo.js';

const photosOf = (e) => (e.name === 'photo.attach' ? [e.args.sha256] : e.args?.photos || []);
const reasonOf = (e) => e.result?.reason || e.result || {};
// The field a rejection names, in words; nothing for one the catalogue has no word for.
const fieldName = (field) => (field ? t(`field.${String(field).split('.').filter((p) => !/^\d+$/.test(p)).pop()}`, {}, '') : '');

// The texts a worker writes, in the order the forms show them (codes are never edited by hand).
const WRITTEN = ['title', 'description', 'address', 'text', 'situation', 'needs', 'follow_up', 'note'];

/** The text fields of a mutation the worker can correct, as paths into its args. */
function textFields(name) {
  const out = [];
  for (const [field, rule] of Object.entries(LIMITS[name] || {})) {
    if (rule.max != null) out.push([field]);
    else if (!('required' in rule)) for (const [inner, r] of Object.entries(rule)) if (r.max != null) out.push([field, inner]);
  }
  const rank = (path) => WRITTEN.indexOf(path[path.length - 1]);
  return out.filter((path) => rank(path) >= 0).sort((a, b) => rank(a) - rank(b));
}

const getPath = (args, path) => path.reduce((v, k) => (v == null ? v : v[k]), args);
function setPath(args, path, value) {
  const copy = structuredClone(args);
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] = node[k] || {};
  node[path[path.length - 1]] = value;
  return copy;
}

// A form answer refused for its answers (an older app, a form checked differently on the
// server) is answered again in the same form, filled in as it was sent.
const ANSWER_FIXABLE = new Set(['ANSWERS_INVALID', 'INVALID_ARGS']);
const answerFixable = (e) => e.name === 'form.answer' && ANSWER_FIXABLE.has(reasonOf(e).code);

/** 放弃这条记录: after a confirmation the record is never sent and leaves the phone. */
const discardButton = (e) => h('button', { type: 'button', class: 'danger', 'data-action': 'discard', onclick: async () => {
  if (!confirm(t('fix.discard_confirm'))) return;
  await discard(e.seq);
  toast(t('fix.discarded'));
} }, t('fix.discard'));

/** The in-place editor of a refused form answer: its form version, as held on the phone. */
async function answerEditor(e, close) {
  const version = await get('form_versions', String(e.args.form_version_id));
  const error = h('p', { class: 'error', role: 'alert' });
  const cancel = h('button', { type: 'button', 'data-action': 'cancel' }, t('fix.cancel'));
  if (!version) {
    const gone = h('div', { class: 'fix', 'data-fix': e.seq }, h('p', { class: 'meta', id: `fix-${e.seq}-no-form` }, t('fix.no_form')),
      h('div', { class: 'row' }, discardButton(e), cancel));
    cancel.onclick = () => { gone.remove(); close(); };
    return gone;
  }
  const box = h('div', { class: 'fix-answer' });
  const form = h('form', { class: 'fix', 'data-fix': e.seq, novalidate: true }, box, error,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('fix.resend')), cancel));
  const rendered = renderForm(box, version.definition, {
    locale: lang() === 'en' ? 'en' : 'zh',
    values: e.args.values || {},
    showTitle: false,
    photoId: captureHere,
  });
  rendered.showProblems(); // what the phone itself finds wrong, marked at once
  const untrack = trackDirty(form);
  const done = () => { clean(form); untrack(); rendered.destroy(); form.remove(); };
  cancel.onclick = () => { done(); close(); };
  saveWhenReady(form, rendered, {
    invalid: () => { error.textContent = t('campaign.fix'); },
    save: async (values) => {
      const args = { ...e.args, values };
      const held = await get('form_answers', args.id);
      done();
      await resend(e.seq, args, { local: [['form_answers', { ...(held || {}), ...args, pending: true }]] });
      close();
      toast(t('fix.resent'));
      syncNow();
    },
  });
  return form;
}

/** The in-place editor of one rejected record. */
async function editor(e, close) {
  if (e.name === 'form.answer') return answerEditor(e, close);
  const fields = textFields(e.name).filter((path) => getPath(e.args, path) != null || path.length === 1);
  const error = h('p', { class: 'error', role: 'alert' });
  const controls = fields.map((path) => {
    const id = `fix-${e.seq}-${path.join('-')}`;
    const key = path[path.length - 1];
    const tag = key === 'title' || key === 'address' || key === 'catalogue_code' ? 'input' : 'textarea';
    return [path, h('label', { for: id }, t(`field.${key}`, {}, key)),
      ...limited(tag, { id, name: key, ...(tag === 'input' ? { type: 'text' } : { rows: 3 }) }, e.name, path.join('.'), String(getPath(e.args, path) ?? ''))];
  });
  // A visit whose residents were refused: tick them again from the household's current list.
  let seen = null;
  if (e.name === 'visit.create' && (e.args.residents_seen || []).length) {
    const residents = (await all('residents')).filter((r) => r.household_id === e.args.household_id);
    seen = h('fieldset', {}, h('legend', {}, t('fix.seen_again')), ...residents.map((r) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'seen', value: r.id, checked: e.args.residents_seen.includes(r.id) }), r.name)));
  }
  // A visit refused for its time (a phone clock at year 1): the worker says when it was,
  // Shanghai time, prefilled with now.
  let when = null;
  if (e.name === 'visit.create' && String(reasonOf(e).details?.field || '').startsWith('visited_at')) {
    const now = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 16);
    when = h('input', { type: 'datetime-local', id: `fix-${e.seq}-when`, name: 'visited_at', value: now, max: now, required: true });
  }
  const form = h('form', { class: 'fix', 'data-fix': e.seq },
    ...controls.flatMap(([, ...nodes]) => nodes),
    when ? h('label', { for: when.id }, t('field.visited_at')) : null, when, seen, error,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, t('fix.resend')),
      h('button', { type: 'button', 'data-action': 'cancel', onclick: () => { clean(form); form.remove(); close(); } }, t('fix.cancel'))));
  trackDirty(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let args = e.args;
    for (const [path, , control] of controls) args = setPath(args, path, control.value.trim());
    if (seen) args = { ...args, residents_seen: [...seen.querySelectorAll('input:checked')].map((x) => x.value) };
    if (when) args = { ...args, visited_at: when.value ? `${when.value}:00+08:00` : null };
    const wrong = problems(e.name, args);
    showProblems(form, wrong, error);
    if (wrong.length) return;
    const local = [];
    if (e.name === 'case.report' && await get('cases', args.id)) {
      local.push(['cases', { ...(await get('cases', args.id)), title: args.title, description: args.description, address: args.address, pending: true }]);
    }
    if (e.name === 'visit.create') local.push(['visits', { ...args, pending: true }]);
    clean(form);
    form.remove();
    await resend(e.seq, args, { local });
    close();
    toast(t('fix.resent'));
    syncNow();
  });
  return form;
}

export async function render(main) {
  const box = h('div');
  const draw = async () => {
    if (box.querySelector('form.fix')) return; // never redraw under a correction being typed
    const [pending, journal, photos] = await Promise.all([all('outbox'), all('journal'), all('photos')]);
    const bySha = new Map(photos.map((p) => [p.sha256, p]));
    const photoState = (sha) => {
      const p = bySha.get(sha);
      if (!p) return null;
      const fraction = status.progress[sha];
      const label = p.upload_state === 'uploaded' ? t('state.photo_sent')
        : p.upload_state === 'failed' ? t('state.photo_failed', { code: t(`reason.${p.error}`, {}, p.error) })
        : fraction != null || p.offset ? t('state.uploading', { pct: Math.round(100 * (fraction ?? p.offset / p.size)) })
        : t('state.photo_waiting');
      return h('div', { class: 'meta', 'data-photo': sha }, label);
    };
    const row = (e) => h('li', { 'data-seq': e.seq, 'data-state': e.state }, h('div', { class: 'item' },
      h('strong', {}, e.summary || t(`mutation.${e.name}`)),
      h('div', { class: `state-${e.state}` }, t(`state.${e.state}`, {}, e.state),
        e.state === 'rejected' ? `: ${reasonText(e.result)}` : ''),
      ...photosOf(e).map(photoState),
      h('div', { class: 'meta' }, fmt.time(e.recorded_at_device))));
    const rejectedRow = (e) => {
      const field = reasonOf(e).details?.field;
      const li = h('li', { 'data-seq': e.seq, 'data-state': 'rejected' });
      const actions = h('div', { class: 'row' },
        textFields(e.name).length || e.name === 'visit.create' || answerFixable(e)
          ? h('button', { type: 'button', class: 'primary', 'data-action': 'edit', onclick: async () => {
            actions.replaceWith(await editor(e, draw));
          } }, t('fix.edit')) : null,
        discardButton(e));
      li.append(h('div', { class: 'item card state-rejected' },
        h('strong', {}, e.summary || t(`mutation.${e.name}`)),
        h('div', {}, reasonText(e.result)),
        // What is wrong, as precisely as the phone can tell (a length it can count itself).
        ...(problems(e.name, e.args).length ? describe(problems(e.name, e.args)).map((line) => h('div', { class: 'meta' }, line))
          : fieldName(field) ? [h('div', { class: 'meta' }, t('fix.field', { field: fieldName(field) }))] : []),
        h('div', { class: 'meta' }, fmt.time(e.recorded_at_device)), actions));
      return li;
    };
    const rejected = journal.filter((e) => e.state === 'rejected');
    const recent = journal.filter((e) => e.state !== 'rejected').slice(-30).reverse();
    const at = status.lastSuccessAt ? fmt.time(status.lastSuccessAt) : t('sync.never');
    box.replaceChildren(...[
      h('div', { class: 'card' },
        h('p', { class: 'big', id: 'pending-count', 'data-count': pending.length }, t('sync.pending', { n: pending.length })),
        // Records refused: the last sync ran, but it is not a success to show as one.
        rejected.length
          ? h('p', { id: 'last-sync', class: 'state-rejected', 'data-rejected': rejected.length }, t('sync.last_rejected', { at, n: rejected.length }))
          : h('p', { id: 'last-sync' }, t('sync.last', { at })),
        status.lastError ? h('p', { class: 'error', id: 'sync-error' }, t(`sync.error.${status.lastError}`, {}, status.lastError)) : null,
        h('button', { type: 'button', class: 'primary', id: 'sync-button', disabled: status.running, onclick: () => syncNow() },
          status.running ? t('sync.running') : t('sync.now'))),
      rejected.length ? h('h3', {}, t('sync.rejected_list')) : null,
      rejected.length ? h('ul', { class: 'list', id: 'rejected-list' }, rejected.map(rejectedRow)) : null,
      h('h3', {}, t('sync.waiting_list')),
      pending.length ? h('ul', { class: 'list', id: 'outbox-list' }, pending.map(row)) : h('p', { class: 'meta' }, t('sync.nothing')),
      h('h3', {}, t('sync.done_list')),
      recent.length ? h('ul', { class: 'list', id: 'journal-list' }, recent.map(row)) : h('p', { class: 'meta' }, t('sync.nothing')),
    ].filter(Boolean)); // replaceChildren would print a null as the text "null"
  };
  main.replaceChildren(h('h2', {}, t('sync.title')), box);
  await draw();
  const offs = [onStatus(draw), onChange(draw)];
  return () => offs.forEach((off) => off());
}
