// Read models over the pulled tables: households due a visit, my cases, a case's pending edits.
import { all, kvGet } from './db.js';

const DAY_MS = 86400000;

/** Households with residents, tags, last visit and next due date; the overdue first. */
export async function householdsByDue(now = Date.now()) {
  const [households, residents, visits, reference] = await Promise.all([
    all('households'), all('residents'), all('visits'), kvGet('reference')]);
  const every = new Map((reference?.care_tags || []).map((t) => [t.code, t]));
  const people = new Map();
  for (const r of residents) {
    if (!people.has(r.household_id)) people.set(r.household_id, []);
    people.get(r.household_id).push(r);
  }
  const lastVisit = new Map();
  for (const v of visits) {
    const at = Date.parse(v.visited_at || v.recorded_at_device || 0);
    if (!lastVisit.has(v.household_id) || at > lastVisit.get(v.household_id)) lastVisit.set(v.household_id, at);
  }
  const rows = households.map((h) => {
    const members = people.get(h.id) || [];
    const tags = [...new Set(members.flatMap((m) => m.tags || []))];
    const days = tags.map((t) => every.get(t)?.visit_every_days).filter((d) => d > 0);
    const interval = days.length ? Math.min(...days) : null;
    const last = lastVisit.get(h.id) ?? null;
    const dueAt = interval == null ? null : (last == null ? 0 : last + interval * DAY_MS);
    return { ...h, residents: members, tags, interval, lastVisitAt: last, dueAt, overdue: dueAt != null && dueAt <= now };
  });
  rows.sort((a, b) => (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity)
    || String(a.building).localeCompare(String(b.building), 'zh') || String(a.room).localeCompare(String(b.room), 'zh', { numeric: true }));
  return rows;
}

export function matches(h, query) {
  if (!query) return true;
  const hay = `${h.address || ''} ${h.road || ''}${h.lane || ''} ${h.building || ''}号 ${h.room || ''}室 ${h.building || ''}-${h.room || ''}`;
  return query.trim().split(/\s+/).every((part) => hay.toLowerCase().includes(part.toLowerCase()));
}

export async function careTagNames() {
  const reference = await kvGet('reference');
  return new Map((reference?.care_tags || []).map((t) => [t.code, t]));
}

/** Outbox entries that concern one case (notes, photos, status, edits not yet acknowledged). */
export async function pendingFor(caseId) {
  const entries = await all('outbox');
  return entries.filter((e) => e.args && (e.args.case_id === caseId || e.args.id === caseId));
}

/** The latest form version held for a form (phones answer on it; docs/forms.md). */
export function latestVersion(versions, formId) {
  let best = null;
  for (const v of versions) if (v.form_id === formId && (!best || v.number > best.number)) best = v;
  return best;
}

/** Published campaigns of the worker with their targets (label order), each marked done when
 * it has at least one answer on the phone (pulled or still in the outbox). */
export async function campaignsWithProgress() {
  const [campaigns, targets, answers, versions] = await Promise.all([
    all('campaigns'), all('campaign_targets'), all('form_answers'), all('form_versions')]);
  const done = new Set(answers.filter((a) => a.target_id).map((a) => a.target_id));
  const byCampaign = new Map();
  for (const target of targets) {
    const key = String(target.campaign_id); // pulled ids are strings, references numbers
    if (!byCampaign.has(key)) byCampaign.set(key, []);
    byCampaign.get(key).push({ ...target, done: done.has(target.id) });
  }
  return campaigns
    .filter((c) => c.status === 'published')
    .map((c) => {
      const list = (byCampaign.get(String(c.id)) || []).sort((a, b) =>
        Number(a.done) - Number(b.done) || String(a.label || '').localeCompare(String(b.label || ''), 'zh', { numeric: true }));
      return { ...c, targets: list, done: list.filter((x) => x.done).length, form: latestVersion(versions, c.form_id) };
    })
    .sort((a, b) => String(a.ends_on || '').localeCompare(String(b.ends_on || '')) || String(a.code).localeCompare(String(b.code)));
}

/**
 * The visit forms a household's residents call for (docs/forms.md §Visit forms on the phone):
 * each care tag a resident carries may name a form (`care_tags` store → visit_form_id); the
 * phone asks the latest version it holds, once per resident and form (two tags of one person
 * naming the same form ask it once, under both names). `forms`: [{ key, formId, version,
 * resident, tags }] in resident order; `missing`: [{ formId, tags }] for forms named by a tag
 * with no version on the phone (never pulled yet).
 */
export async function visitFormsFor(household) {
  const [tags, versions] = await Promise.all([all('care_tags'), all('form_versions')]);
  const byCode = new Map(tags.map((t) => [t.id, t]));
  const forms = new Map();
  const missing = new Map();
  for (const resident of household.residents || []) {
    for (const code of resident.tags || []) {
      const tag = byCode.get(code);
      if (!tag || tag.visit_form_id == null) continue;
      const formId = Number(tag.visit_form_id);
      const version = latestVersion(versions, formId);
      if (!version) {
        if (!missing.has(formId)) missing.set(formId, { formId, tags: [] });
        if (!missing.get(formId).tags.includes(tag)) missing.get(formId).tags.push(tag);
        continue;
      }
      const key = `${formId}:${resident.id}`;
      if (!forms.has(key)) forms.set(key, { key, formId, version, resident, tags: [] });
      forms.get(key).tags.push(tag);
    }
  }
  return { forms: [...forms.values()], missing: [...missing.values()] };
}

/** A household's visits on the phone (newest first), each with its form answers and the
 * versions they were made on (null when the phone does not hold that version). */
export async function visitHistory(householdId) {
  const [visits, answers, versions] = await Promise.all([all('visits'), all('form_answers'), all('form_versions')]);
  const byId = new Map(versions.map((v) => [String(v.id), v]));
  const when = (v) => Date.parse(v.visited_at || v.recorded_at_device || 0) || 0;
  const mine = visits.filter((v) => v.household_id === householdId);
  const ids = new Set(mine.map((v) => v.id));
  const answersOf = new Map(); // visit id → its answers, in one pass over the phone's answers
  for (const a of answers) {
    if (!ids.has(a.visit_id)) continue;
    if (!answersOf.has(a.visit_id)) answersOf.set(a.visit_id, []);
    answersOf.get(a.visit_id).push({ ...a, version: byId.get(String(a.form_version_id)) || null });
  }
  return mine
    .sort((a, b) => when(b) - when(a))
    .map((v) => ({ ...v, answers: answersOf.get(v.id) || [] }));
}
