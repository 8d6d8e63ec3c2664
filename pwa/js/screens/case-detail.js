// One case: details, timeline, add a note or a photo, change status as the workflow allows,
// edit fields; all offline. Rejections and conflicts from the server are shown plainly.
import { h, toast, trackDirty, clean } from '../ui.js';
import { t, fmt, reasonText } from '../i18n.js';
import { get, all, kvGet } from '../db.js';
import { enqueue } from '../outbox.js';
import { uuid } from '../uuid.js';
import { syncNow } from '../sync-client.js';
import { pendingFor } from '../data.js';
import { photoButtons, thumb } from './report.js';
import * as geo from '../geo.js';
import { limited, problems as checkArgs, show as showProblems } from '../checks.js';
import { placeIndex, pathOf } from '../places.js';

// What the phone may ask for (server/cases/workflow.py); the server checks again.
const HANDLER_STEPS = { dispatched: 'handling', handling: 'handled' };
const CHECK_STEPS = { handled: 'closed' };

function nextSteps(c, me, myCells) {
  const steps = [];
  if (c.assignee_id === me && HANDLER_STEPS[c.status]) steps.push(HANDLER_STEPS[c.status]);
  if (c.assignee_id !== me && myCells.has(c.cell_code) && CHECK_STEPS[c.status]) steps.push(CHECK_STEPS[c.status]);
  return steps;
}

export async function render(main, [caseId], { rerender }) {
  const c = await get('cases', caseId);
  if (!c) { main.replaceChildren(h('a', { class: 'back', href: '#/cases', id: 'back' }, '‹ ', t('back.cases')), h('h2', {}, t('case.gone')), h('p', {}, t('case.gone_hint'))); return; }
  const [session, cells, pending, journal, conflicts, reference] = await Promise.all([
    kvGet('session'), all('cells'), pendingFor(caseId), all('journal'), all('conflicts'), kvGet('reference')]);
  const cellPath = c.cell_code ? pathOf(placeIndex(cells, reference?.grid), c.cell_code) : '';
  const me = session?.user?.id;
  const myCells = new Set(cells.map((x) => x.code));
  const rejected = journal.filter((e) => e.state === 'rejected' && (e.args?.case_id === caseId || e.args?.id === caseId));
  const mine = conflicts.filter((x) => x.case_id === caseId && !x.resolution);
  const pendingStatus = pending.filter((e) => e.name === 'case.transition').map((e) => e.args.to).pop();
  const status = pendingStatus || c.status;
  geo.start();

  const timeline = h('ul', { class: 'list', id: 'timeline' },
    ...(c.events || []).map((e) => h('li', {}, h('div', { class: 'item' },
      h('strong', {}, t(`event.${e.kind}`, {}, e.kind)), e.to ? ` → ${t(`status.${e.to}`)}` : '',
      e.after_close ? h('span', { class: 'tag due' }, t('case.after_close')) : null,
      e.note ? h('div', {}, e.note) : null, h('div', { class: 'meta' }, fmt.time(e.at))))),
    ...pending.map((e) => h('li', { 'data-pending': e.seq }, h('div', { class: 'item state-waiting' },
      h('strong', {}, t(`mutation.${e.name}`)), ' · ', t('state.waiting'),
      e.args.text ? h('div', {}, e.args.text) : null, e.args.to ? h('div', {}, `→ ${t(`status.${e.args.to}`)}`) : null))));

  const problems = [
    ...rejected.map((e) => h('div', { class: 'card state-rejected', role: 'alert', 'data-rejected': e.seq },
      h('strong', {}, t('case.rejected', { what: t(`mutation.${e.name}`) })), h('div', {}, reasonText(e.result)))),
    ...mine.map((x) => h('div', { class: 'card state-rejected', role: 'alert', 'data-conflict': x.field },
      h('strong', {}, t('case.conflict', { field: t(`field.${x.field}`) })),
      h('div', {}, t('case.conflict_values', { a: x.earlier_value ?? '', b: x.later_value ?? '' })))),
  ];

  const noteError = h('p', { class: 'error', role: 'alert', id: 'note-error' });
  const noteForm = h('form', { id: 'note-form' },
    h('label', { for: 'note-text' }, t('case.note')), ...limited('textarea', { id: 'note-text', name: 'text', rows: 2, required: true }, 'case.note', 'text'),
    noteError, h('button', { type: 'submit', class: 'primary' }, t('case.add_note')));
  const untrackNote = trackDirty(noteForm);
  noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = noteForm.elements.text.value.trim();
    const args = { id: uuid(), case_id: caseId, text };
    const wrong = checkArgs('case.note', args);
    showProblems(noteForm, wrong, noteError);
    if (wrong.length) return;
    await enqueue('case.note', args, { summary: t('summary.note', { n: c.number || '' }) });
    clean(noteForm);
    toast(t('saved'));
    syncNow();
    rerender();
  });

  const steps = c.pending ? [] : nextSteps({ ...c, status }, me, myCells);
  const statusButtons = steps.map((to) => h('button', { type: 'button', class: 'primary', 'data-to': to, onclick: async () => {
    await enqueue('case.transition', { case_id: caseId, from: status, to, note: '' }, { summary: t('summary.status', { n: c.number || '', to: t(`status.${to}`) }) });
    toast(t('saved'));
    syncNow();
    rerender();
  } }, t(`action.${to}`)));

  const photoRow = photoButtons(async (row) => {
    // A whole point from one source (the photo's own, else the phone's fix): the server
    // refuses half a point, and one axis from each would be a place nobody stood.
    const at = Number.isFinite(row.lon) && Number.isFinite(row.lat) ? row : (geo.currentFix() || {});
    await enqueue('photo.attach', { sha256: row.sha256, case_id: caseId, purpose: c.assignee_id === me ? 'result' : 'report',
      lon: at.lon ?? null, lat: at.lat ?? null, accuracy_m: at.accuracy_m ?? null,
      captured_at_device: row.captured_at_device }, { summary: t('summary.photo', { n: c.number || '' }) });
    toast(t('saved'));
    syncNow();
    rerender();
  });
  const localPhotos = (await Promise.all([...(c.photos || []), ...pending.filter((e) => e.name === 'photo.attach').map((e) => e.args.sha256)]
    .map((sha) => get('photos', sha)))).filter(Boolean);

  const editError = h('p', { class: 'error', role: 'alert', id: 'edit-error' });
  const editForm = h('form', { id: 'edit-form' },
    h('label', { for: 'e-title' }, t('field.title')), ...limited('input', { id: 'e-title', name: 'title', type: 'text' }, 'case.set_fields', 'changes.title', c.title || ''),
    h('label', { for: 'e-desc' }, t('field.description')), ...limited('textarea', { id: 'e-desc', name: 'description', rows: 3 }, 'case.set_fields', 'changes.description', c.description || ''),
    h('label', { for: 'e-addr' }, t('field.address')), ...limited('input', { id: 'e-addr', name: 'address', type: 'text' }, 'case.set_fields', 'changes.address', c.address || ''),
    editError, h('button', { type: 'submit' }, t('case.save_fields')));
  const untrackEdit = trackDirty(editForm);
  editForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const changes = {};
    for (const field of ['title', 'description', 'address']) {
      const value = editForm.elements[field].value;
      if (value !== (c[field] || '')) changes[field] = value;
    }
    if (!Object.keys(changes).length) return;
    const wrong = checkArgs('case.set_fields', { case_id: caseId, changes });
    showProblems(editForm, wrong, editError);
    if (wrong.length) return;
    await enqueue('case.set_fields', { case_id: caseId, changes }, { baseVersion: c.version, summary: t('summary.edit', { n: c.number || '' }) });
    clean(editForm);
    toast(t('saved'));
    syncNow();
    rerender();
  });

  main.replaceChildren(...[
    h('a', { class: 'back', href: '#/cases', id: 'back' }, '‹ ', t('back.cases')),
    h('h2', {}, c.title || t('case.untitled')),
    h('p', {}, h('span', { class: 'tag', id: 'case-status', 'data-status': status }, t(`status.${status}`)),
      pendingStatus ? h('span', { class: 'tag due' }, t('cases.unsynced')) : null, ' ', h('span', { class: 'meta' }, c.number || t('case.number_pending'))),
    ...problems,
    h('p', {}, c.description || ''), h('p', { class: 'meta' }, c.address || ''),
    cellPath ? h('p', { class: 'meta', id: 'case-cell', title: c.cell_code }, cellPath) : null,
    statusButtons.length ? h('div', { class: 'row' }, statusButtons) : null,
    h('h3', {}, t('case.photos')), h('div', { class: 'thumbs' }, localPhotos.map(thumb)),
    c.pending ? null : photoRow,
    c.pending ? null : noteForm,
    h('h3', {}, t('case.timeline')), timeline,
    c.pending ? null : h('details', {}, h('summary', { style: 'min-height:48px;padding:12px 0' }, t('case.edit')), editForm),
  ].filter(Boolean)); // replaceChildren would print a null as the text "null"
  return () => { untrackNote(); untrackEdit(); };
}
