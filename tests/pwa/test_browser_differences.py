"""Engine and browser differences the worker app handles (issue 16, items 2 and 3), shown in
Chromium posing as the others: no Background Sync, iOS Safari outside the Home Screen, the
three answers of storage.persist(), photos kept as ArrayBuffers, the camera input, and in-app
browsers (WeChat, QQ, Alipay, DingTalk, Weibo, Douyin, Android WebView) with or without a
service worker and IndexedDB. Screenshots (app-*.png) as in tests/browser.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server import REPO_ROOT
from tests.node_eval import node_eval
from tests.pwa.conftest import DEMO_PASSWORD, LiveServer, save_report

pytestmark = pytest.mark.browser

Shot = Callable[..., Path]
SYNC_ROUTES = "**/api/v1/sync/**"

# Firefox and Safari have no Background Sync: take it away before the app's scripts run.
NO_BACKGROUND_SYNC = """
delete window.SyncManager;
if (window.ServiceWorkerRegistration) delete ServiceWorkerRegistration.prototype.sync;
"""
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD_DESKTOP = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
WEBVIEW = (
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36"
)
IN_APP = {
    "wechat": WEBVIEW + " XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2308 "
    "MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN",
    "wechat-ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI "
    "Language/zh_CN",
    "qq": WEBVIEW + " V1_AND_SQ_8.9.85_4766_YYB_D QQ/8.9.85.12820 NetType/WIFI WebP/0.3.0",
    "alipay": WEBVIEW + " UWS/3.22.2.58 AlipayChannelId/5136 NebulaSDK/1.8.100112 Nebula "
    "AlipayDefined(nt:WIFI,ws:393|0|2.75) AliApp(AP/10.5.66.8000) AlipayClient/10.5.66.8000",
    "dingtalk": WEBVIEW + " AliApp(DingTalk/7.5.10) com.alibaba.android.rimet/36451025 "
    "Channel/227200 language/zh-CN abi/64 UT4Aplus/0.2.25 colorScheme/light",
    "weibo": WEBVIEW + " Weibo (Xiaomi-2211133C__weibo__13.12.3__android__android14)",
    "douyin": WEBVIEW + " aweme_290500 JsSdk/1.0 NetType/WIFI Channel/douyin_tengxun "
    "app_version/29.5.0 ByteLocale/zh BytedanceWebview/d8a21c6",
    "webview": WEBVIEW,
}
APP_NAMES = {
    "wechat": "微信",
    "qq": "QQ",
    "alipay": "支付宝",
    "dingtalk": "钉钉",
    "weibo": "微博",
    "douyin": "抖音",
    "webview": "应用内置浏览器",
}


def settled(phone: Any) -> Any:
    """Signed in, the first sync over and no sync running."""
    page = phone.page
    page.wait_for_selector("body[data-settled=true]", timeout=30000)
    page.wait_for_function("() => !document.getElementById('sync-now').disabled")
    return page


def save_unsent(phone: Any, description: str) -> None:
    """Save a report while the server cannot be reached, without the browser going offline
    (so no `online` event follows); the failed sync attempt is over when this returns."""
    phone.expected_network_errors = True
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    save_report(phone.page, description)
    phone.page.wait_for_function("() => !document.getElementById('sync-now').disabled")
    assert [e["args"]["description"] for e in phone.idb("outbox")] == [description]
    phone.context.unroute(SYNC_ROUTES)


def sent_without_asking(phone: Any, server: LiveServer, description: str) -> None:
    """The outbox empties by itself (nobody calls sync) and the server has the case once.

    The badge is hidden in the page's markup until the app has counted the outbox, so after a
    reload a hidden badge proves nothing: wait for the session's first sync to be over too."""
    phone.page.wait_for_selector("body[data-settled=true]", timeout=30000)
    phone.page.wait_for_selector("#pending-badge", state="hidden", timeout=30000)
    assert phone.idb("outbox") == []
    query = "SELECT count(*) FROM cases WHERE description = ?"
    assert server.query(query, (description,)) == [(1,)]


def kv_put(page: Any, key: str, value: Any) -> None:
    page.evaluate(
        """([key, value]) => new Promise((resolve, reject) => {
             const r = indexedDB.open('wangge');
             r.onsuccess = () => {
               const tx = r.result.transaction('kv', 'readwrite');
               tx.objectStore('kv').put(value, key);
               tx.oncomplete = () => { r.result.close(); resolve(); };
               tx.onerror = () => reject(tx.error);
             };
           })""",
        [key, value],
    )


def no_background_sync_phone(make_phone: Any) -> Any:
    phone = make_phone(init_script=NO_BACKGROUND_SYNC)
    phone.login("zhou.jie")
    page = settled(phone)
    assert page.evaluate(
        "async () => !('SyncManager' in window) && !('sync' in await navigator.serviceWorker.ready)"
    )
    return phone


# --- sync triggers without Background Sync ---------------------------------------------------


def test_without_background_sync_a_record_goes_when_back_online_and_on_open(
    make_phone: Any, server: LiveServer, needs_sync: None
) -> None:
    phone = no_background_sync_phone(make_phone)
    page = phone.page
    phone.expected_network_errors = True
    phone.context.set_offline(True)
    save_report(page, "无后台同步:断网时保存的上报")
    page.wait_for_function("() => !document.getElementById('sync-now').disabled")
    assert len(phone.idb("outbox")) == 1
    phone.context.set_offline(False)  # the `online` event
    sent_without_asking(phone, server, "无后台同步:断网时保存的上报")
    # Opening the app again sends what an earlier visit could not.
    save_unsent(phone, "无后台同步:下次打开时发送")
    page.reload()
    sent_without_asking(phone, server, "无后台同步:下次打开时发送")


def test_without_background_sync_a_record_goes_when_the_app_comes_back_into_view(
    make_phone: Any, server: LiveServer, needs_sync: None
) -> None:
    phone = no_background_sync_phone(make_phone)
    save_unsent(phone, "无后台同步:回到前台时发送")
    phone.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    sent_without_asking(phone, server, "无后台同步:回到前台时发送")


def test_without_background_sync_the_timer_sends_a_waiting_record(
    make_phone: Any, server: LiveServer, needs_sync: None
) -> None:
    phone = no_background_sync_phone(make_phone)
    kv_put(phone.page, "sync_timer_ms", 1000)  # two minutes in the field
    phone.page.reload()
    settled(phone)
    save_unsent(phone, "无后台同步:定时发送")
    sent_without_asking(phone, server, "无后台同步:定时发送")


# --- iOS Safari outside the Home Screen --------------------------------------------------------


def test_ios_safari_outside_the_home_screen_is_told_and_warned_loudly_after_a_day(
    make_phone: Any, server: LiveServer, needs_sync: None, screenshot: Shot
) -> None:
    phone = make_phone(user_agent=IPHONE_SAFARI)
    page = phone.login("zhou.jie")
    settled(phone)
    notice = page.wait_for_selector("#ios-banner")
    assert "「分享」→「添加到主屏幕」" in notice.inner_text()
    screenshot(page, "app-ios-home-screen", full_page=False)
    page.click("#ios-dismiss")
    page.wait_for_selector("#ios-banner", state="detached")
    page.reload()  # dismissed for this visit only: it comes back
    settled(phone)
    page.wait_for_selector("#ios-banner")
    assert page.query_selector("#ios-stale-banner") is None
    # A record waiting more than a day: red, with a sync button, no way to close it.
    save_unsent(phone, "iPhone 上等了一天多的上报")
    [entry] = phone.idb("outbox")
    page.evaluate(
        """(seq) => new Promise((resolve) => {
             const r = indexedDB.open('wangge');
             r.onsuccess = () => {
               const tx = r.result.transaction('outbox', 'readwrite');
               const store = tx.objectStore('outbox');
               store.get(seq).onsuccess = (e) => store.put({ ...e.target.result,
                 recorded_at_device: new Date(Date.now() - 25 * 3600e3).toISOString() });
               tx.oncomplete = () => { r.result.close(); resolve(); };
             };
           })""",
        entry["seq"],
    )
    phone.context.route(SYNC_ROUTES, lambda route: route.abort("internetdisconnected"))
    page.reload()
    page.wait_for_selector("body[data-settled=true]")
    alarm = page.wait_for_selector("#ios-stale-banner")
    words = alarm.inner_text()
    assert "有 1 条记录超过一天没有上传" in words and "添加到主屏幕" in words
    assert alarm.query_selector(".close") is None and page.query_selector("#ios-banner") is None
    assert (
        page.evaluate(
            "getComputedStyle(document.getElementById('ios-stale-banner')).backgroundColor"
        )
        == "rgb(164, 22, 26)"
    )
    screenshot(page, "app-ios-stale", full_page=False)
    phone.context.unroute(SYNC_ROUTES)
    alarm.query_selector("button").click()  # 立即同步
    sent_without_asking(phone, server, "iPhone 上等了一天多的上报")
    page.wait_for_selector("#ios-stale-banner", state="detached")
    # From the Home Screen (navigator.standalone), nothing to say.
    phone.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'standalone', { get: () => true });"
    )
    page.reload()
    settled(phone)
    assert page.query_selector("#ios-banner") is None


def test_which_browsers_count_as_ios_and_in_app() -> None:
    """The user-agent rules, including iPadOS's desktop UA (a Mac with a touch screen)."""
    cases = {
        "iphone": [IPHONE_SAFARI, 5],
        "ipad-desktop": [IPAD_DESKTOP, 5],
        "mac": [IPAD_DESKTOP, 0],
        "android-chrome": [ANDROID_CHROME, 5],
        "qq-browser": [ANDROID_CHROME + " MQQBrowser/14.8", 5],
        **{name: [agent, 5] for name, agent in IN_APP.items()},
    }
    module = json.dumps(str(REPO_ROOT / "pwa/js/browser-check.js"))
    script = f"""
    const m = await import({module});
    const out = {{}};
    for (const [name, [agent, touch]] of Object.entries({json.dumps(cases)})) {{
      Object.defineProperty(globalThis, 'navigator',
        {{ value: {{ userAgent: agent, maxTouchPoints: touch }}, configurable: true }});
      out[name] = [m.isIOS(), m.inAppBrowser()];
    }}
    console.log(JSON.stringify(out));
    """
    assert json.loads(node_eval(script)) == {
        "iphone": [True, None],
        "ipad-desktop": [True, None],
        "mac": [False, None],
        "android-chrome": [False, None],
        "qq-browser": [False, None],  # a browser of its own, not an in-app one
        "wechat": [False, "wechat"],
        "wechat-ios": [True, "wechat"],
        "qq": [False, "qq"],
        "alipay": [False, "alipay"],
        "dingtalk": [False, "dingtalk"],
        "weibo": [False, "weibo"],
        "douyin": [False, "douyin"],
        "webview": [False, "webview"],
    }


# --- storage.persist() answers -----------------------------------------------------------------

PERSIST = {
    "missing": "delete StorageManager.prototype.persist;"
    " delete StorageManager.prototype.persisted;",
    "refused": "StorageManager.prototype.persisted = async () => false;"
    " StorageManager.prototype.persist = async () => false;",
    "granted": "StorageManager.prototype.persisted = async () => true;"
    " StorageManager.prototype.persist = async () => true;",
}


@pytest.mark.parametrize("answer", list(PERSIST))
def test_each_answer_of_storage_persist_gets_its_banner_or_none(
    make_phone: Any, answer: str, screenshot: Shot
) -> None:
    phone = make_phone(init_script=PERSIST[answer])
    page = phone.login("zhou.jie")
    page.wait_for_selector("body[data-settled=true]", timeout=30000)
    if answer == "refused":
        banner = page.wait_for_selector("#persist-banner[data-refused=false]")
        assert "可能清除离线记录" in banner.inner_text()
        page.click("#persist-ask")
        banner = page.wait_for_selector("#persist-banner[data-refused=true]")
        assert "浏览器没有同意保护数据" in banner.inner_text()
        assert page.query_selector("#persist-ask") is None  # the same button would do nothing
        screenshot(page, "app-persist-refused", full_page=False)
        page.reload()  # the answer is remembered
        page.wait_for_selector("#persist-banner[data-refused=true]", timeout=30000)
    else:
        # Either nothing to ask for, or already granted: no banner once they are drawn for
        # the signed-in worker.
        page.wait_for_selector("#banners[data-for=signed-in]", state="attached")
        assert page.query_selector("#persist-banner") is None
    page.evaluate("location.hash = '#/settings'")
    page.wait_for_selector("#storage-persisted")
    if answer == "missing":
        assert "不能设置数据保护" in page.inner_text("#storage-persist-unsupported")
    elif answer == "granted":
        assert "数据已受保护" in page.inner_text("#storage-persisted")
    else:
        assert "数据未受保护" in page.inner_text("#storage-persisted")


# --- photos: the camera, the album, ArrayBuffers ----------------------------------------------

PHOTO_KINDS = """() => new Promise((resolve) => {
  const r = indexedDB.open('wangge');
  r.onsuccess = () => {
    const q = r.result.transaction('photos').objectStore('photos').getAll();
    q.onsuccess = () => { r.result.close(); resolve(q.result.map((row) => [
      Object.prototype.toString.call(row.bytes),
      Object.keys(row).filter((k) => row[k] instanceof Blob),
    ])); };
  };
})"""


def test_the_report_form_offers_camera_and_album_and_keeps_array_buffers(
    phone: Any, photo_jpeg: Path
) -> None:
    page = phone.login("zhou.jie")
    page.evaluate("location.hash = '#/report'")
    page.wait_for_selector("#report-form")
    camera, album = page.locator("#photo-camera"), page.locator("#photo-album")
    assert camera.get_attribute("type") == "file" and album.get_attribute("type") == "file"
    assert camera.get_attribute("accept") == album.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    assert album.get_attribute("capture") is None and album.get_attribute("multiple") is not None
    assert page.inner_text("label[for=photo-camera]") == "拍照"
    assert page.inner_text("label[for=photo-album]") == "从相册选"
    page.set_input_files("#photo-camera", str(photo_jpeg))
    page.wait_for_selector("#report-thumbs img", timeout=15000)
    assert page.evaluate(PHOTO_KINDS) == [["[object ArrayBuffer]", []]]


# --- in-app browsers ---------------------------------------------------------------------------


@pytest.mark.parametrize("app", list(IN_APP))
def test_an_in_app_browser_gets_the_notice_with_the_way_out(make_phone: Any, app: str) -> None:
    phone = make_phone(user_agent=IN_APP[app])
    page = phone.open()
    notice = page.wait_for_selector("#browser-notice")
    key = app.removesuffix("-ios")
    assert notice.get_attribute("data-app") == key
    assert notice.get_attribute("data-blocked") == "false"  # Chromium: SW and IndexedDB work
    words = notice.inner_text()
    assert f"您正在{APP_NAMES[key]}里打开网格员应用" in words
    assert "未上传的走访和上报可能丢失" in words
    if key == "webview":
        assert "粘贴到地址栏" in words
    elif app.endswith("-ios"):
        assert "「···」" in words and "在Safari中打开" in words
    else:
        assert "「···」" in words and "在浏览器打开" in words
    assert page.input_value("#browser-link") == phone.server.url + "/app/"
    assert page.is_visible("#browser-continue")


def test_in_wechat_the_worker_may_go_on_at_their_own_risk_and_is_reminded(
    make_phone: Any, screenshot: Shot
) -> None:
    phone = make_phone(user_agent=IN_APP["wechat"])
    page = phone.open()
    page.wait_for_selector("#browser-notice")
    screenshot(page, "app-in-app-notice")
    page.click("#browser-copy")
    state = page.wait_for_selector("#browser-copy-state:not([hidden])")
    assert state.inner_text() in {
        "链接已复制,请粘贴到浏览器的地址栏。",
        "无法自动复制:请长按上面的链接,全选后复制。",
    }
    page.click("#browser-continue")
    page.wait_for_selector("#browser-notice", state="detached")
    banner = page.wait_for_selector("#in-app-banner")
    assert "正在微信里使用:记录可能丢失" in banner.inner_text()
    page.fill("#username", "zhou.jie")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-screen=home]")
    assert page.is_visible("#in-app-banner")  # on every screen, not dismissible
    assert page.query_selector("#in-app-banner .close") is None
    screenshot(page, "app-in-app-banner", full_page=False)


NO_SERVICE_WORKER = "delete Navigator.prototype.serviceWorker;"
NO_INDEXEDDB = "Object.defineProperty(window, 'indexedDB', { get: () => undefined });"


@pytest.mark.parametrize(
    ("missing", "user_agent", "says"),
    [
        (NO_SERVICE_WORKER, None, "这个浏览器不支持没有网络时打开本应用"),
        (NO_INDEXEDDB, IN_APP["wechat"], "这个浏览器不能在手机上保存数据"),
    ],
    ids=["no-service-worker", "wechat-no-indexeddb"],
)
def test_where_records_cannot_be_kept_the_app_refuses_to_capture(
    make_phone: Any, missing: str, user_agent: str | None, says: str, screenshot: Shot
) -> None:
    phone = make_phone(init_script=missing, user_agent=user_agent)
    page = phone.open()
    notice = page.wait_for_selector("#browser-notice[data-blocked=true]")
    words = notice.inner_text()
    assert "这里不能保存记录" in words and says in words
    assert "不能在这里使用网格员应用" in words
    assert page.query_selector("#browser-continue") is None
    assert page.query_selector("#username") is None and page.query_selector("form") is None
    assert page.evaluate("document.body.dataset.browser") == "blocked"
    if user_agent:
        assert "在浏览器打开" in words
        screenshot(page, "app-blocked-wechat")
    else:
        assert "无痕" in words
        screenshot(page, "app-blocked")
