// The outbox: domain mutations written to IndexedDB before anything else happens.
// Each gets the device's next seq and a UUID op_id; an entry leaves the outbox only when the
// server says last_seq >= seq (research note §2.2: "deleting nothing early is the core rule").
import { tx, req, all, count } from './db.js';
import { timeOrderedId } from './uuid.js';
import { requestPersistence } from './storage.js';

const listeners = new Set();
export const onChange = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
export const changed = () => listeners.forEach((fn) => fn());

/**
 * Queue one mutation (and optionally local rows to show at once) in a single transaction.
 * `local` is a list of [store, row] put alongside, so the screen and the outbox never disagree.
 */
export async function enqueue(name, args, { baseVersion = null, local = [], summary = '' } = {}) {
  return (await enqueueAll([{ name, args, baseVersion, local, summary }]))[0];
}

/**
 * Queue several mutations, in the order given (consecutive seqs), with their local rows, in
 * ONE IndexedDB transaction: all are kept or none (a visit and its form answers; a crash
 * never keeps one without the other). Resolves with the outbox rows.
 */
export async function enqueueAll(entries) {
  const stores = ['kv', 'outbox', ...new Set(entries.flatMap((e) => (e.local || []).map(([s]) => s)))];
  const rows = await tx(stores, 'readwrite', async (s) => {
    let seq = ((await req(s.kv.get('next_seq'))) || 1);
    const made = [];
    for (const { name, args, baseVersion = null, local = [], summary = '' } of entries) {
      const row = {
        seq, op_id: timeOrderedId(), name, args, base_version: baseVersion, summary,
        recorded_at_device: new Date().toISOString(), state: 'waiting', tries: 0,
      };
      s.outbox.add(row);
      for (const [store, value] of local) s[store].put(value);
      made.push(row);
      seq += 1;
    }
    s.kv.put(seq, 'next_seq');
    return made;
  });
  requestPersistence(); // first saved record: ask the browser to keep our storage
  changed();
  return rows;
}

export const pending = () => all('outbox');
export const pendingCount = () => count('outbox');
export const journal = () => all('journal');

/**
 * The server has applied (or rejected) everything up to `lastSeq`. Move those entries to the
 * journal with their result; later entries stay untouched.
 */
export async function acknowledge(lastSeq, results = []) {
  const bySeq = new Map(results.map((r) => [r.seq, r]));
  const moved = await tx(['outbox', 'journal'], 'readwrite', async (s) => {
    const rows = await req(s.outbox.getAll(IDBKeyRange.upperBound(lastSeq)));
    for (const row of rows) {
      const result = bySeq.get(row.seq);
      const status = result && result.status === 'rejected' ? 'rejected' : 'synced';
      s.journal.put({ ...row, state: status, result: result || null, acked_at: new Date().toISOString() });
      s.outbox.delete(row.seq);
    }
    return rows.length;
  });
  if (moved) changed();
  return moved;
}

/** Record a rejection learnt from a pull (the push reply may have been lost). */
export async function markRejected(seq, rejection) {
  await tx('journal', 'readwrite', async (s) => {
    const row = await req(s.journal.get(seq));
    // A record the worker already corrected or discarded stays so (a later pull resends rows).
    if (row && (row.state === 'synced' || row.state === 'rejected')) {
      s.journal.put({ ...row, state: 'rejected', result: { status: 'rejected', ...rejection } });
    }
  });
  changed();
}

export async function setState(seq, patch) {
  await tx('outbox', 'readwrite', async (s) => {
    const row = await req(s.outbox.get(seq));
    if (row) s.outbox.put({ ...row, ...patch });
  });
  changed();
}

/** Rejected records still waiting for the worker to correct or discard them. */
export async function unresolved() {
  return (await all('journal')).filter((e) => e.state === 'rejected');
}

/** The refused form answers of a refused visit (they were refused UNKNOWN_VISIT with it). */
async function refusedAnswersOf(old) {
  if (old.name !== 'visit.create' || !old.args?.id) return [];
  return (await all('journal')).filter((e) => e.state === 'rejected' && e.name === 'form.answer'
    && e.args?.visit_id === old.args.id);
}

/**
 * Send a rejected record again with corrected `args`: a new outbox entry (new seq and
 * op_id, the same record id, so a local row is replaced, not doubled); the journal keeps the
 * rejected one, marked `resent`, for the record. A visit takes its refused form answers
 * along, queued right after it in the same transaction (docs/forms.md §Visit forms).
 */
export async function resend(seq, args, { local = [] } = {}) {
  const old = await tx('journal', 'readonly', (s) => req(s.journal.get(seq)));
  if (!old || old.state !== 'rejected') return null;
  const answers = await refusedAnswersOf(old);
  const [entry, ...again] = await enqueueAll([
    { name: old.name, args, baseVersion: old.base_version, local, summary: old.summary },
    ...answers.map((a) => ({ name: a.name, args: a.args, baseVersion: a.base_version, summary: a.summary })),
  ]);
  await tx('journal', 'readwrite', async (s) => {
    for (const [from, to] of [[seq, entry], ...answers.map((a, i) => [a.seq, again[i]])]) {
      const row = await req(s.journal.get(from));
      if (row) s.journal.put({ ...row, state: 'resent', resent_as: to.seq });
    }
  });
  changed();
  return entry;
}

/** Give up a rejected record: it is never sent, and the screens stop showing it as pending.
 * A visit's refused form answers are given up with it. */
export async function discard(seq) {
  const old = await tx('journal', 'readonly', (s) => req(s.journal.get(seq)));
  if (!old || old.state !== 'rejected') return false;
  const stores = { 'case.report': 'cases', 'visit.create': 'visits', 'form.answer': 'form_answers' };
  const records = [old, ...await refusedAnswersOf(old)];
  const used = [...new Set(records.map((r) => stores[r.name]).filter(Boolean))];
  await tx(['journal', ...used], 'readwrite', async (s) => {
    for (const record of records) {
      s.journal.put({ ...record, state: 'discarded', discarded_at: new Date().toISOString() });
      const store = stores[record.name];
      if (store && record.args?.id) {
        const row = await req(s[store].get(record.args.id));
        if (row && row.pending) s[store].delete(record.args.id); // only our local copy, never a pulled row
      }
    }
  });
  changed();
  return true;
}
