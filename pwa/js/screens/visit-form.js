// Log a visit in a few taps: who was seen, situation, needs, follow-up; a finding can
// become a case on the spot. Saved to the outbox first; location is optional.
// The care tags of the household's residents may call for visit forms (docs/forms.md §Visit
// forms on the phone): one per resident and form, asked for the residents ticked as seen when
// the outcome is 见到本人 (a resident not met is not asked), validated
// before anything is kept, and queued with the visit in one IndexedDB transaction. Below, the
// household's visits on the phone with their answered forms.
import { h, toast, trackDirty, clean } from '../ui.js';
import { t, lang, fmt } from '../i18n.js';
import { get } from '../db.js';
import * as geo from '../geo.js';
import { enqueueAll } from '../outbox.js';
import { timeOrderedId, uuid } from '../uuid.js';
import { syncNow } from '../sync-client.js';
import { captureHere } from '../photo.js';
import { householdsByDue, visitFormsFor, visitHistory } from '../data.js';
import { limited, problems, show as showProblems } from '../checks.js';
import { renderForm } from '../forms/render.js';
import { readableAnswers } from '../forms/readable.js';

const OUTCOMES = ['met', 'not_home', 'refused'];

const tagName = (tag) => (lang() === 'en' ? tag.name_en || tag.name_zh : tag.name_zh) || '';
const formTitle = (version) => version.title || (version.definition?.title?.zh) || t('visit.form_untitled');

export async function render(main, [householdId]) {
  const household = (await householdsByDue()).find((x) => x.id === householdId) || await get('households', householdId);
  if (!household) { main.replaceChildren(h('p', {}, t('visit.unknown'))); return; }
  geo.start();
  const [{ forms: needed, missing }, history] = await Promise.all([visitFormsFor(household), visitHistory(household.id)]);
  const people = (household.residents || []).map((r) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'seen', value: r.id }), `${r.name}${r.relation ? ` (${r.relation})` : ''}`));
  const outcome = h('div', { class: 'chips', role: 'radiogroup', 'aria-labelledby': 'outcome-legend' },
    ...OUTCOMES.map((o, i) => h('label', {}, h('input', { type: 'radio', name: 'outcome', value: o, checked: i === 0 }), h('span', {}, t(`visit.outcome.${o}`)))));
  const area = (name) => [h('label', { for: `v-${name}` }, t(`visit.${name}`)), ...limited('textarea', { id: `v-${name}`, name, rows: 2 }, 'visit.create', name)];
  const errorBox = h('p', { class: 'error', role: 'alert', id: 'visit-error' });
  const toCase = h('input', { type: 'checkbox', name: 'to_case', id: 'v-to-case' });
  const forms = visitForms(needed, missing);
  const form = h('form', { id: 'visit-form', novalidate: true },
    h('fieldset', {}, h('legend', {}, t('visit.seen')), people.length ? people : h('p', { class: 'meta' }, t('visit.no_residents'))),
    h('fieldset', {}, h('legend', { id: 'outcome-legend' }, t('visit.outcome')), outcome),
    forms.section,
    ...area('situation'), ...area('needs'), ...area('follow_up'),
    h('label', { class: 'check', for: 'v-to-case' }, toCase, t('visit.to_case')),
    errorBox,
    h('button', { class: 'primary', type: 'submit', style: 'width:100%;margin-top:12px' }, t('visit.save')));
  const met = () => form.querySelector('input[name=outcome]:checked').value === 'met';
  const seen = () => new Set([...form.querySelectorAll('input[name=seen]:checked')].map((x) => x.value));
  const refresh = () => forms.asked(met(), seen());
  outcome.addEventListener('change', refresh);
  form.addEventListener('change', (event) => { if (event.target.name === 'seen') refresh(); });
  const untrack = trackDirty(form);
  let saving = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    const fix = geo.currentFix();
    const where = fix ? { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m } : { lon: null, lat: null, accuracy_m: null };
    const visitId = timeOrderedId();
    const visitedAt = new Date().toISOString();
    const f = form.elements;
    const args = {
      id: visitId, household_id: household.id, visited_at: visitedAt,
      outcome: form.querySelector('input[name=outcome]:checked').value,
      residents_seen: [...form.querySelectorAll('input[name=seen]:checked')].map((x) => x.value),
      situation: f.situation.value.trim(), needs: f.needs.value.trim(), follow_up: f.follow_up.value.trim(), ...where,
    };
    const label = `${household.building || ''}-${household.room || ''}`;
    const wrong = problems('visit.create', args);
    showProblems(form, wrong, errorBox);
    if (wrong.length) return;
    // The forms asked (residents ticked as seen, outcome met): every problem marked, nothing kept.
    const metNow = seen();
    const asked = met() ? forms.rendered.filter((one) => metNow.has(one.resident.id)) : [];
    saving = true; // a second tap while a photo is still being stored does nothing
    try { await Promise.all(asked.map((one) => one.form.ready())); } finally { saving = false; }
    for (const one of asked) one.form.showProblems();
    const unanswered = asked.filter((one) => one.form.problems().length);
    if (unanswered.length) {
      errorBox.textContent = t('visit.forms_fix');
      unanswered[0].box.querySelector('.wf-has-problem')?.scrollIntoView({ block: 'center' });
      return;
    }
    const entries = [];
    if (toCase.checked) {
      const caseId = uuid();
      const description = [args.situation, args.needs].filter(Boolean).join('\n') || t('visit.case_default', { where: label });
      // visit_id: the server files it under the visit channel, never shown in public.
      const caseArgs = { id: caseId, title: t('visit.case_title', { where: label }), description,
        address: household.address || '', priority: 'normal', photos: [], visit_id: visitId, ...where };
      // situation + needs become the case's description, which has its own limit
      const tooLong = problems('case.report', caseArgs).map((p) => ({ ...p, field: p.field === 'description' ? 'situation' : p.field }));
      showProblems(form, tooLong, errorBox);
      if (tooLong.length) return;
      entries.push({
        name: 'case.report', args: caseArgs, summary: t('summary.case', { where: label }),
        local: [['cases', { id: caseId, pending: true, status: 'reported', title: t('visit.case_title', { where: label }), description, address: household.address || '', events: [], photos: [], reported_at: visitedAt }]],
      });
      args.case_id = caseId;
    }
    entries.push({ name: 'visit.create', args, summary: t('summary.visit', { where: label }), local: [['visits', { ...args, pending: true }]] });
    for (const one of asked) {
      const answer = {
        id: timeOrderedId(), form_version_id: Number(one.version.id), campaign_id: null, target_id: null,
        visit_id: visitId, household_id: household.id, resident_id: one.resident.id,
        values: one.form.values(), answered_at: visitedAt,
      };
      entries.push({
        name: 'form.answer', args: answer,
        summary: t('summary.visit_answer', { title: formTitle(one.version), where: label }),
        local: [['form_answers', { ...answer, cell_code: household.cell_code || null, pending: true }]],
      });
    }
    saving = true;
    try {
      await enqueueAll(entries); // the case, the visit and its answers: all kept or none
    } finally {
      saving = false;
    }
    clean(form);
    toast(t('visit.saved'));
    location.hash = '#/visits';
    syncNow();
  });
  main.replaceChildren(
    h('a', { class: 'back', href: '#/visits', id: 'back' }, '‹ ', t('back.visits')),
    h('h2', {}, `${household.building || ''}${t('visits.bldg')} ${household.room || ''}${t('visits.room')}`),
    h('p', { class: 'meta' }, household.address || ''),
    form,
    historySection(household, history));
  forms.mount();
  refresh();
  return () => { untrack(); forms.destroy(); };
}

/** The forms section: one box per (form, resident), and a notice per form not on the phone. */
function visitForms(needed, missing) {
  const notices = missing.map((m) => h('p', { class: 'meta visit-form-missing', 'data-form': String(m.formId) },
    t('visit.form_missing', { tags: m.tags.map(tagName).join('、') })));
  const boxes = needed.map((one) => {
    const box = h('div', { class: 'visit-form-body' });
    const section = h('section', { class: 'visit-form', 'data-form': String(one.formId), 'data-resident': one.resident.id },
      h('h3', {}, formTitle(one.version)),
      h('p', { class: 'meta' }, t('visit.form_for', { name: one.resident.name || t('visit.resident_unnamed'), tags: one.tags.map(tagName).join('、') })),
      box);
    return { ...one, box, section, form: null };
  });
  const notMet = h('p', { class: 'meta', id: 'visit-forms-not-met', hidden: true }, t('visit.forms_not_met'));
  const tick = h('p', { class: 'meta', id: 'visit-forms-tick', hidden: true }, t('visit.forms_tick_seen'));
  const section = (boxes.length || notices.length)
    ? h('div', { id: 'visit-forms' }, ...notices, notMet, tick, ...boxes.map((b) => b.section))
    : null;
  return {
    section,
    rendered: boxes,
    mount() {
      for (const one of boxes) {
        one.form = renderForm(one.box, one.version.definition, {
          locale: lang() === 'en' ? 'en' : 'zh',
          values: {},
          showTitle: false,
          photoId: captureHere,
        });
      }
    },
    /** Show the boxes of the residents `seen` when the outcome is met (`yes`); say why the
     * others are not shown. */
    asked(yes, seen) {
      notMet.hidden = yes || !boxes.length;
      let waiting = 0;
      for (const one of boxes) {
        const shown = yes && seen.has(one.resident.id);
        one.section.hidden = !shown;
        if (yes && !shown) waiting += 1;
      }
      tick.hidden = !waiting;
    },
    destroy() { for (const one of boxes) one.form?.destroy(); },
  };
}

/** The household's visits on the phone, newest first, with the forms answered on each. */
function historySection(household, visits) {
  const people = new Map((household.residents || []).map((r) => [r.id, r.name]));
  const locale = lang() === 'en' ? 'en' : 'zh';
  const items = visits.map((v) => {
    const at = v.visited_at || v.recorded_at_device;
    const day = at ? fmt.time(at) : t('visit.history_undated'); // the app's dates: Shanghai time
    const answered = v.answers.map((a) => {
      const who = a.resident_id && people.get(a.resident_id) ? ` · ${people.get(a.resident_id)}` : '';
      if (!a.version) {
        return h('div', { class: 'visit-answer' }, h('strong', {}, t('visit.form_answered')), who, h('p', { class: 'meta' }, t('visit.form_version_missing')));
      }
      const lines = readableAnswers(a.version.definition, a.values, locale);
      return h('div', { class: 'visit-answer', 'data-answer': a.id },
        h('strong', {}, formTitle(a.version)), who,
        a.pending ? h('span', { class: 'tag' }, t('visit.pending')) : null,
        h('dl', { class: 'answers' }, ...lines.flatMap((l) => [h('dt', {}, l.label), h('dd', {}, l.text)])));
    });
    return h('li', { class: 'item', 'data-visit': v.id },
      h('div', {}, h('strong', {}, day), ' ', OUTCOMES.includes(v.outcome) ? t(`visit.outcome.${v.outcome}`) : '',
        v.pending ? h('span', { class: 'tag' }, t('visit.pending')) : null),
      v.situation ? h('p', {}, v.situation) : null,
      ...answered);
  });
  return h('section', { id: 'visit-history' },
    h('h3', {}, t('visit.history')),
    items.length ? h('ul', { class: 'list' }, ...items) : h('p', { class: 'meta' }, t('visit.history_none')));
}
