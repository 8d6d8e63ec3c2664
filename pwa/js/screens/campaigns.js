// 专项行动 (campaigns), offline: the worker's current campaigns with progress from the answers
// on the phone, a campaign's targets (done or not), and a target's form (pwa/js/forms/render.js,
// the latest version held for the campaign's form). Saving queues `form.answer` and keeps the
// answer locally at once, so the target shows done with no signal (docs/forms.md).
//   #/campaigns                      the list
//   #/campaigns/<campaign>           its targets
//   #/campaigns/<campaign>/<target>  the form for one target
import { h, toast, trackDirty, clean } from '../ui.js';
import { t, lang } from '../i18n.js';
import { campaignsWithProgress } from '../data.js';
import { enqueue } from '../outbox.js';
import { timeOrderedId } from '../uuid.js';
import { captureHere } from '../photo.js';
import { syncNow } from '../sync-client.js';
import { renderForm, saveWhenReady } from '../forms/render.js';

export async function render(main, [campaignId, targetId]) {
  const campaigns = await campaignsWithProgress();
  const campaign = campaignId ? campaigns.find((c) => String(c.id) === campaignId) : null;
  if (campaignId && !campaign) {
    main.replaceChildren(back('#/campaigns', t('back.campaigns')), h('p', { class: 'meta', id: 'campaign-gone' }, t('campaign.gone')));
    return null;
  }
  if (!campaign) return list(main, campaigns);
  const target = targetId ? campaign.targets.find((x) => x.id === targetId) : null;
  if (targetId && !target) {
    main.replaceChildren(back(`#/campaigns/${campaign.id}`, t('back.targets')), h('p', { class: 'meta', id: 'target-gone' }, t('campaign.target_gone')));
    return null;
  }
  if (!target) return targets(main, campaign);
  return answer(main, campaign, target);
}

const back = (href, text) => h('a', { class: 'back', href, id: 'back' }, '‹ ', text);
const progress = (c) => t('campaign.progress', { x: c.done, n: c.targets.length });
const dates = (c) => (c.ends_on ? t('campaign.until', { d: c.ends_on }) : '');

function list(main, campaigns) {
  const items = campaigns.map((c) => h('li', {},
    h('a', { href: `#/campaigns/${c.id}`, 'data-campaign': String(c.id) },
      h('strong', {}, c.title_zh || t('campaign.untitled')), ' ',
      c.done === c.targets.length && c.targets.length ? h('span', { class: 'tag' }, t('campaign.all_done')) : null,
      h('div', { class: 'meta' }, h('span', { class: 'campaign-progress' }, progress(c)), dates(c) ? ` · ${dates(c)}` : ''))));
  if (!items.length) items.push(h('li', {}, h('p', { class: 'meta item', id: 'no-campaigns' }, t('campaign.none'))));
  main.replaceChildren(h('h2', {}, t('campaign.title')), h('ul', { class: 'list', id: 'campaign-list' }, ...items));
  return null;
}

function targets(main, campaign) {
  const items = campaign.targets.map((x) => h('li', {},
    h('a', { href: `#/campaigns/${campaign.id}/${x.id}`, 'data-target': x.id, 'data-done': String(x.done) },
      h('strong', {}, x.label || t('campaign.no_label')), ' ',
      h('span', { class: x.done ? 'tag' : 'tag due' }, x.done ? t('campaign.done') : t('campaign.not_done')))));
  if (!items.length) items.push(h('li', {}, h('p', { class: 'meta item' }, t('campaign.no_targets'))));
  main.replaceChildren(...[
    back('#/campaigns', t('back.campaigns')),
    h('h2', {}, campaign.title_zh || t('campaign.untitled')),
    campaign.description_zh ? h('p', {}, campaign.description_zh) : null,
    h('p', { class: 'meta', id: 'campaign-progress' }, progress(campaign), dates(campaign) ? ` · ${dates(campaign)}` : ''),
    h('ul', { class: 'list', id: 'target-list' }, ...items)].filter(Boolean)); // never a "null" text
  return null;
}

function answer(main, campaign, target) {
  const version = campaign.form;
  const head = [back(`#/campaigns/${campaign.id}`, t('back.targets')),
    h('h2', {}, target.label || t('campaign.no_label')), h('p', { class: 'meta' }, campaign.title_zh || '')];
  if (!version) {
    main.replaceChildren(...head, h('p', { class: 'meta', id: 'no-form' }, t('campaign.no_form')));
    return null;
  }
  const box = h('div', { id: 'campaign-form' });
  const save = h('button', { class: 'primary', type: 'submit', id: 'answer-save', style: 'width:100%;margin-top:12px' }, t('campaign.save'));
  const form = h('form', { id: 'answer-form', novalidate: true }, box, save);
  main.replaceChildren(...head,
    ...(target.done ? [h('p', { class: 'meta', id: 'answered-before' }, t('campaign.answered_before'))] : []), form);
  const rendered = renderForm(box, version.definition, {
    locale: lang() === 'en' ? 'en' : 'zh',
    values: {},
    // the app's photo pipeline: shrunk, hashed, kept in IndexedDB, uploaded by tus at the sync
    photoId: captureHere,
  });
  const untrack = trackDirty(form);
  saveWhenReady(form, rendered, {
    invalid: () => toast(t('campaign.fix')),
    save: async (values) => {
      const args = {
        id: timeOrderedId(), form_version_id: Number(version.id), campaign_id: Number(campaign.id), target_id: target.id,
        visit_id: null, household_id: target.household_id || null, resident_id: target.resident_id || null,
        values, answered_at: new Date().toISOString(),
      };
      await enqueue('form.answer', args, {
        summary: t('summary.answer', { title: campaign.title_zh || '', where: target.label || '' }),
        local: [['form_answers', { ...args, cell_code: target.cell_code, pending: true }]],
      });
      clean(form);
      toast(t('campaign.saved'));
      location.hash = `#/campaigns/${campaign.id}`;
      syncNow();
    },
  });
  return () => { untrack(); rendered.destroy(); };
}
