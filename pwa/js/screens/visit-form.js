// Log a visit in a few taps: who was seen, situation, needs, follow-up; a finding can
// become a case on the spot. Saved to the outbox first; location is optional.
import { h, toast, trackDirty, clean } from '../ui.js';
import { t } from '../i18n.js';
import { get } from '../db.js';
import * as geo from '../geo.js';
import { enqueue } from '../outbox.js';
import { uuid } from '../uuid.js';
import { syncNow } from '../sync-client.js';
import { householdsByDue } from '../data.js';
import { limited, problems, show as showProblems } from '../checks.js';

const OUTCOMES = ['met', 'not_home', 'refused'];

export async function render(main, [householdId]) {
  const household = (await householdsByDue()).find((x) => x.id === householdId) || await get('households', householdId);
  if (!household) { main.replaceChildren(h('p', {}, t('visit.unknown'))); return; }
  geo.start();
  const people = (household.residents || []).map((r) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'seen', value: r.id }), `${r.name}${r.relation ? ` (${r.relation})` : ''}`));
  const outcome = h('div', { class: 'chips', role: 'radiogroup', 'aria-labelledby': 'outcome-legend' },
    ...OUTCOMES.map((o, i) => h('label', {}, h('input', { type: 'radio', name: 'outcome', value: o, checked: i === 0 }), h('span', {}, t(`visit.outcome.${o}`)))));
  const area = (name) => [h('label', { for: `v-${name}` }, t(`visit.${name}`)), ...limited('textarea', { id: `v-${name}`, name, rows: 2 }, 'visit.create', name)];
  const errorBox = h('p', { class: 'error', role: 'alert', id: 'visit-error' });
  const toCase = h('input', { type: 'checkbox', name: 'to_case', id: 'v-to-case' });
  const form = h('form', { id: 'visit-form' },
    h('fieldset', {}, h('legend', {}, t('visit.seen')), people.length ? people : h('p', { class: 'meta' }, t('visit.no_residents'))),
    h('fieldset', {}, h('legend', { id: 'outcome-legend' }, t('visit.outcome')), outcome),
    ...area('situation'), ...area('needs'), ...area('follow_up'),
    h('label', { class: 'check', for: 'v-to-case' }, toCase, t('visit.to_case')),
    errorBox,
    h('button', { class: 'primary', type: 'submit', style: 'width:100%;margin-top:12px' }, t('visit.save')));
  const untrack = trackDirty(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fix = geo.currentFix();
    const where = fix ? { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m } : { lon: null, lat: null, accuracy_m: null };
    const visitId = uuid();
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
      await enqueue('case.report', caseArgs, {
        summary: t('summary.case', { where: label }),
        local: [['cases', { id: caseId, pending: true, status: 'reported', title: t('visit.case_title', { where: label }), description, address: household.address || '', events: [], photos: [], reported_at: visitedAt }]],
      });
      args.case_id = caseId;
    }
    await enqueue('visit.create', args, {
      summary: t('summary.visit', { where: label }),
      local: [['visits', { ...args, pending: true }]],
    });
    clean(form);
    toast(t('visit.saved'));
    location.hash = '#/visits';
    syncNow();
  });
  main.replaceChildren(
    h('a', { class: 'back', href: '#/visits', id: 'back' }, '‹ ', t('back.visits')),
    h('h2', {}, `${household.building || ''}${t('visits.bldg')} ${household.room || ''}${t('visits.room')}`),
    h('p', { class: 'meta' }, household.address || ''),
    form);
  return untrack;
}
