// Where is the app running, and can it keep records here? In-app browsers (WeChat, QQ, Alipay,
// DingTalk, Weibo, Douyin, any Android WebView) may clear storage at will and often cannot run
// the app offline; without a service worker or IndexedDB, records are not safe at all.
// docs/pwa.md "Browsers and engines".

// Order matters: WeChat's Android UA also carries "MQQBrowser" and "; wv)".
const IN_APP = [
  ['wechat', /MicroMessenger\//i],
  ['qq', /(^|[\s;(])QQ\//],
  ['alipay', /AlipayClient/i],
  ['dingtalk', /DingTalk/i],
  ['weibo', /Weibo/i],
  ['douyin', /aweme|BytedanceWebview/i],
  ['webview', /; ?wv\)/],
];

/** The in-app browser this user agent belongs to ('wechat', …, 'webview'), or null. */
export function inAppBrowser(ua = navigator.userAgent) {
  const hit = IN_APP.find(([, pattern]) => pattern.test(ua));
  return hit ? hit[0] : null;
}

/** iPhone, iPad or iPod, including iPadOS's desktop-like UA (a "Mac" with a touch screen). */
export function isIOS(ua = navigator.userAgent) {
  return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
}

/** Opened from the Home Screen (iOS) or as an installed app (elsewhere). */
export function isStandalone() {
  return navigator.standalone === true || matchMedia('(display-mode: standalone)').matches;
}

/** Can IndexedDB open a database here? Some private modes and webviews have the object but
 * refuse (or never answer) an open: 10 s without an answer counts as no (long enough that a
 * slow phone under load is never locked out by a late answer). */
function probeIndexedDB() {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok) => { if (!done) { done = true; resolve(ok); } };
    setTimeout(() => finish(false), 10000);
    try {
      if (typeof indexedDB === 'undefined' || !indexedDB) { finish(false); return; }
      const req = indexedDB.open('wangge-probe', 1);
      req.onsuccess = () => { req.result.close(); finish(true); };
      req.onerror = (event) => { event.preventDefault(); finish(false); };
      req.onblocked = () => finish(true); // another tab holds it open: it exists, so it works
    } catch {
      finish(false);
    }
  });
}

/**
 * {app, ios, serviceWorker, indexedDB, blocked}: `blocked` when records could not be kept
 * (no service worker: the app cannot open offline; no IndexedDB: nothing can be saved).
 */
export async function checkBrowser() {
  const serviceWorker = 'serviceWorker' in navigator && window.isSecureContext !== false;
  const idb = await probeIndexedDB();
  return { app: inAppBrowser(), ios: isIOS(), serviceWorker, indexedDB: idb, blocked: !serviceWorker || !idb };
}
