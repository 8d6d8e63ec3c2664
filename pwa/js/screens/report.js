// Photo report from patrol: take a photo or pick one, choose the matter from the catalogue,
// describe it; place and time come along. Saved on the phone first, sent when there is signal.
import { h, toast, trackDirty, clean } from '../ui.js';
import { t, lang } from '../i18n.js';
import { all } from '../db.js';
import * as geo from '../geo.js';
import { capture, objectUrl } from '../photo.js';
import { enqueue } from '../outbox.js';
import { uuid } from '../uuid.js';
import { syncNow } from '../sync-client.js';
import { limited, problems, show as showProblems } from '../checks.js';

export function photoButtons(onPhoto) {
  const input = (id, extra) => h('input', { id, type: 'file', accept: 'image/*', class: 'sr-only', ...extra,
    onchange: async (event) => {
      for (const file of event.target.files) {
        try {
          const fix = geo.currentFix();
          onPhoto(await capture(file, fix || {}));
        } catch (error) {
          console.warn('photo failed', error);
          toast(t('photo.failed'));
        }
      }
      event.target.value = '';
    } });
  // Two buttons: on some phones `capture` forces the camera and hides the album (§3.8).
  return h('div', { class: 'row' },
    h('label', { class: 'btn primary', for: 'photo-camera', style: 'text-align:center;margin:0' }, t('photo.camera'),
      input('photo-camera', { capture: 'environment' })),
    h('label', { class: 'btn', for: 'photo-album', style: 'text-align:center;margin:0' }, t('photo.album'),
      input('photo-album', { multiple: true })));
}

export function thumb(row) {
  const url = objectUrl(row);
  return h('img', { src: url, alt: t('photo.alt', { kb: Math.round(row.size / 1024) }), 'data-sha256': row.sha256,
    onload: () => URL.revokeObjectURL(url) });
}

export async function render(main) {
  geo.start();
  const items = await all('catalogue_items');
  const photos = [];
  const thumbs = h('div', { class: 'thumbs', id: 'report-thumbs' });
  const name = (i) => (lang() === 'en' ? i.name_en || i.name_zh : i.name_zh);
  const picked = h('input', { type: 'hidden', name: 'catalogue_code' });
  const results = h('div', { class: 'chips', id: 'cat-results', role: 'radiogroup', 'aria-label': t('report.catalogue') });
  const search = h('input', { id: 'cat-search', type: 'search', placeholder: t('report.catalogue_ph'), autocomplete: 'off' });
  const drawItems = () => {
    const q = search.value.trim().toLowerCase();
    const found = items.filter((i) => i.kind !== 'service' && (!q || name(i).toLowerCase().includes(q)
      || (i.search_initials || i.pinyin_initials || '').toLowerCase().includes(q) || (i.keywords || []).some((k) => String(k).includes(q)))).slice(0, 8);
    results.replaceChildren(...found.map((i) => h('label', {},
      h('input', { type: 'radio', name: 'cat', value: i.code, checked: picked.value === i.code, onchange: () => { picked.value = i.code; } }),
      h('span', {}, name(i)))));
  };
  search.addEventListener('input', drawItems);
  search.addEventListener('keydown', (event) => { // Enter picks the first match, never submits
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const first = results.querySelector('input[type=radio]');
    if (first) { first.checked = true; picked.value = first.value; }
  });
  const form = h('form', { id: 'report-form' },
    photoButtons((row) => { photos.push(row); thumbs.append(thumb(row)); }), thumbs,
    h('label', { for: 'cat-search' }, t('report.catalogue')), search, results, picked,
    h('label', { for: 'r-desc' }, t('report.description')),
    ...limited('textarea', { id: 'r-desc', name: 'description', rows: 3, required: true }, 'case.report', 'description'),
    h('label', { for: 'r-addr' }, t('report.address')),
    ...limited('input', { id: 'r-addr', name: 'address', type: 'text' }, 'case.report', 'address'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'urgent' }), t('report.urgent')),
    h('p', { class: 'error', role: 'alert', id: 'report-error' }),
    h('button', { class: 'primary', type: 'submit', style: 'width:100%;margin-top:12px' }, t('report.save')));
  const untrack = trackDirty(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const description = form.elements.description.value.trim();
    if (!description && !photos.length) {
      form.querySelector('#report-error').textContent = t('report.need_something');
      return;
    }
    const fix = geo.currentFix();
    const where = fix ? { lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy_m } : { lon: null, lat: null, accuracy_m: null };
    const item = items.find((i) => i.code === picked.value);
    const id = uuid();
    const title = item ? name(item) : t('report.default_title');
    const args = { id, title, description: description || title, address: form.elements.address.value.trim(),
      catalogue_code: item ? item.code : null, priority: form.elements.urgent.checked ? 'urgent' : 'normal',
      photos: photos.map((p) => p.sha256), ...where };
    // What the server would refuse is said now, never after "上报已保存".
    const wrong = problems('case.report', args);
    showProblems(form, wrong, form.querySelector('#report-error'));
    if (wrong.length) return;
    await enqueue('case.report', args, {
      summary: t('summary.report', { title, n: photos.length }),
      local: [['cases', { id, pending: true, status: 'reported', title, description: args.description, address: args.address, events: [], photos: args.photos, reported_at: new Date().toISOString() }]],
    });
    clean(form);
    toast(t('report.saved'));
    location.hash = '#/cases';
    syncNow();
  });
  main.replaceChildren(h('h2', {}, t('report.title')), form);
  drawItems();
  return untrack;
}
