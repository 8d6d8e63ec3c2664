// Start-up: language, service worker and its update prompt, session, router, banners, sync.
import { t, applyStatic } from './i18n.js';
import { kvGet, kvSet } from './db.js';
import { h, anyDirty, toast } from './ui.js';
import { syncNow, startTriggers, isBusy, onStatus } from './sync-client.js';
import { pendingCount, pending, onChange, unresolved } from './outbox.js';
import { isPersisted, requestPersistence, iosNeedsHomeScreen, persistenceSupported } from './storage.js';
import { checkBrowser } from './browser-check.js';
import { showBrowserNotice, appName } from './browser-notice.js';
import * as login from './screens/login.js';
import * as home from './screens/home.js';
import * as visits from './screens/visits.js';
import * as visitForm from './screens/visit-form.js';
import * as report from './screens/report.js';
import * as cases from './screens/cases.js';
import * as caseDetail from './screens/case-detail.js';
import * as syncScreen from './screens/sync.js';
import * as settings from './screens/settings.js';
import * as campaigns from './screens/campaigns.js';

const ROUTES = { home, visits, visit: visitForm, report, cases, case: caseDetail, sync: syncScreen, settings, campaigns };
const main = document.getElementById('main');
let cleanup = null;
let signedIn = false;

// Screens are drawn one at a time, each for the route current when its turn comes: a render
// awaits the phone's storage, and two drawn at once (the first sync's redraw, a tap) could end
// in either order, an older screen over the newer one and one screen's cleanup lost.
let drawing = Promise.resolve();
let asked = 0;

async function show() {
  const ticket = ++asked;
  drawing = drawing
    .then(() => (ticket === asked ? draw() : undefined)) // a newer show() draws the route then
    .catch((error) => console.error('screen not drawn', error));
  // Resolve once every draw asked for so far is done (callers wait for the screen they see).
  let tail;
  do { tail = drawing; await tail; } while (tail !== drawing);
}

async function draw() {
  if (cleanup) { cleanup(); cleanup = null; }
  const [name, ...params] = (location.hash.replace(/^#\/?/, '') || 'home').split('/');
  // 'signin': the sign-in screen again while signed in (renewal refused); nothing local is lost
  const screen = signedIn && name !== 'signin' ? ROUTES[name] || home : login;
  document.querySelectorAll('#tabs a').forEach((a) => {
    if (a.dataset.tab === name || (name === 'visit' && a.dataset.tab === 'visits') || (name === 'case' && a.dataset.tab === 'cases')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const result = await screen.render(main, params.map(decodeURIComponent), {
    rerender: show,
    onSignedIn: () => { startSession(); location.hash = '#/home'; },
    onSignedOut: () => { signedIn = false; refreshChrome(); location.hash = '#/'; show(); },
  });
  cleanup = typeof result === 'function' ? result : null;
  document.body.dataset.screen = signedIn && name !== 'signin' ? name || 'home' : 'login';
}

async function refreshChrome() {
  document.getElementById('tabs').hidden = !signedIn;
  const button = document.getElementById('sync-now');
  button.hidden = !signedIn;
  const n = signedIn ? await pendingCount() : 0;
  const badge = document.getElementById('pending-badge');
  badge.hidden = !n;
  badge.textContent = String(n);
  button.setAttribute('aria-label', t('sync.now_pending', { n }));
  // Refused records wait for the worker on the sync screen: a red count on its tab.
  const refused = signedIn ? (await unresolved()).length : 0;
  const red = document.getElementById('rejected-badge');
  red.hidden = !refused;
  red.textContent = String(refused);
  red.setAttribute('aria-label', t('sync.rejected_list'));
  await renderBanners();
}

// --- banners ------------------------------------------------------------------------------
let waitingWorker = null;
const PERSIST_BANNER_QUIET_MS = 7 * 86400000;
const STALE_ON_IOS_MS = 24 * 3600000;
let iosNoticeDismissed = false; // for this page load only: it comes back at the next open
let inAppRisk = null;           // the in-app browser the worker chose to stay in

async function renderBanners() {
  const box = document.getElementById('banners');
  const banners = [];
  if (waitingWorker) {
    banners.push(h('div', { class: 'banner', id: 'update-banner' }, h('p', {}, t('banner.update')),
      h('button', { type: 'button', id: 'update-button', onclick: applyUpdate }, t('banner.update_button'))));
  }
  if (signedIn && await kvGet('session_expired')) {
    banners.push(h('div', { class: 'banner', id: 'expired-banner' }, h('p', {}, t('banner.expired')),
      location.hash === '#/signin' ? null
        : h('button', { type: 'button', id: 'sign-in-again', onclick: () => { location.hash = '#/signin'; } }, t('banner.sign_in_again'))));
  }
  if (inAppRisk) {
    banners.push(h('div', { class: 'banner alarm', id: 'in-app-banner', role: 'alert' }, h('p', {}, t('banner.in_app', { app: appName(inAppRisk) }))));
  }
  if (signedIn && iosNeedsHomeScreen()) {
    // iOS Safari outside the Home Screen deletes our storage after 7 days without use: records
    // waiting more than a day get a red warning that stays until they are sent.
    const waiting = await pending();
    const oldest = waiting.length ? Date.parse(waiting[0].recorded_at_device) : NaN;
    if (Date.now() - oldest > STALE_ON_IOS_MS) {
      banners.push(h('div', { class: 'banner alarm', id: 'ios-stale-banner', role: 'alert' },
        h('p', {}, t('banner.ios_stale', { n: waiting.length })),
        h('button', { type: 'button', onclick: () => syncNow() }, t('sync.now'))));
    } else if (!iosNoticeDismissed) {
      banners.push(h('div', { class: 'banner', id: 'ios-banner' }, h('p', {}, t('banner.ios')),
        h('button', { type: 'button', class: 'close', id: 'ios-dismiss', 'aria-label': t('banner.dismiss'), title: t('banner.dismiss'),
          onclick: () => { iosNoticeDismissed = true; renderBanners(); } }, '×')));
    }
  }
  // Compact and dismissible: dismissed, it stays away for a week; Settings keeps the button.
  // No banner where the browser cannot be asked (nothing the worker could do about it), nor
  // on iOS outside the Home Screen: adding the app there is the one step that keeps the data.
  const dismissedAt = signedIn ? await kvGet('persist_banner_dismissed') : null;
  if (signedIn && persistenceSupported() && !iosNeedsHomeScreen() && !(dismissedAt && Date.now() - dismissedAt < PERSIST_BANNER_QUIET_MS) && !(await isPersisted())) {
    const refused = await kvGet('persist_refused_at');
    banners.push(h('div', { class: 'banner compact', id: 'persist-banner', 'data-refused': String(Boolean(refused)) },
      h('p', {}, t(refused ? 'banner.persist_refused' : 'banner.persist')),
      refused ? null : h('button', { type: 'button', id: 'persist-ask', onclick: async () => { await requestPersistence(true); renderBanners(); } }, t('banner.persist_button')),
      h('button', { type: 'button', class: 'close', id: 'persist-dismiss', 'aria-label': t('banner.dismiss'), title: t('banner.dismiss'),
        onclick: async () => { await kvSet('persist_banner_dismissed', Date.now()); renderBanners(); } }, '×')));
  }
  box.replaceChildren(...banners);
  box.dataset.for = signedIn ? 'signed-in' : 'signed-out'; // tests wait on it
}

function applyUpdate() {
  // Never reload under a half-typed form or an unfinished push (research note §3.6).
  if (anyDirty()) { toast(t('banner.update_dirty')); return; }
  if (isBusy()) { toast(t('banner.update_busy')); return; }
  waitingWorker.postMessage({ type: 'SKIP_WAITING' });
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register('sw.js', { scope: '/app/' });
  const offer = (worker) => { waitingWorker = worker; renderBanners(); };
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (waitingWorker && !reloading) { reloading = true; location.reload(); }
  });
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') reg.update().catch(() => {}); });
}

// --- session ------------------------------------------------------------------------------
function startSession() {
  signedIn = true;
  refreshChrome();
  // data-settled: the first sync of the session is over and its screen redrawn (tests wait on it)
  syncNow().then(async () => {
    refreshChrome();
    if (['home', 'visits', 'cases', 'campaigns', ''].includes(location.hash.split('/')[1] || '')) await show();
    document.body.dataset.settled = 'true';
  });
}

async function boot() {
  applyStatic();
  // In-app browsers and browsers that cannot keep records: say so before anything is typed.
  const check = await checkBrowser();
  document.body.dataset.browser = check.blocked ? 'blocked' : check.app ? 'in-app' : 'ok';
  if (check.blocked) {
    main.replaceChildren();
    showBrowserNotice(check);
    document.body.dataset.ready = 'true';
    return; // nothing may be captured here: it could not be kept
  }
  if (check.app) {
    showBrowserNotice(check, () => { inAppRisk = check.app; renderBanners(); });
  }
  document.getElementById('sync-now').addEventListener('click', () => syncNow());
  startTriggers();
  onChange(refreshChrome);
  onStatus((s) => {
    document.getElementById('sync-now').disabled = s.running;
    // The token could not be renewed: back to the sign-in screen, unless a form is half filled
    // (its banner offers the way there); records and outbox stay on the phone either way.
    if (s.running || s.lastError !== 'signed_out' || !signedIn) return;
    renderBanners();
    if (location.hash !== '#/signin' && !anyDirty()) location.hash = '#/signin';
  });
  document.addEventListener('wangge:persistence', renderBanners);
  // the iOS warnings depend on how long records have waited: look again on each return
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') renderBanners(); });
  addEventListener('hashchange', show);
  signedIn = Boolean(await kvGet('session'));
  await refreshChrome();
  await show();
  if (signedIn) startSession();
  registerServiceWorker().catch((error) => console.warn('service worker not registered', error));
  // for tests, bench, support (the home screen may have put its map there already)
  window.wangge = Object.assign(window.wangge || {}, { syncNow, ready: true, readyAt: performance.now() });
  document.body.dataset.ready = 'true';
}

boot();
