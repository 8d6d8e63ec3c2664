"""Screens are drawn in the order they were asked for: a slow screen never lands over a newer one.

A screen's render awaits the phone's storage. Two asked for close together (the first sync's
redraw and a tap, or two quick taps) used to run at once, and whichever finished last was
drawn: an older screen over the one the worker had just opened, and the covered screen's
cleanup (the home map's listeners) never called. Here the phone's storage is made slow for one
store, so the race is not left to chance: the household list reads `residents`, the settings
screen does not.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Before the app's scripts: while `window.__slowStores` names a store, a transaction on it
#: reports `complete` `window.__slowMs` later (the app's db.js resolves on `oncomplete`).
SLOW_STORAGE = """
(() => {
  const open = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, options) {
    const tx = open.call(this, stores, mode, options);
    const names = typeof stores === 'string' ? [stores] : [...stores];
    const slow = window.__slowStores || [];
    if (!names.some((name) => slow.includes(name))) return tx;
    let handler = null;
    Object.defineProperty(tx, 'oncomplete', {
      configurable: true, get: () => handler, set: (fn) => { handler = fn; } });
    tx.addEventListener('complete', (event) => {
      setTimeout(() => handler && handler.call(tx, event), window.__slowMs || 0);
    });
    return tx;
  };
})();
"""


def test_a_slow_screen_never_lands_over_the_one_opened_after_it(make_phone: Any) -> None:
    phone = make_phone(init_script=SLOW_STORAGE)
    page = phone.login("chen.xia")
    page.wait_for_selector("body[data-settled=true]")
    page.evaluate("window.__slowStores = ['residents']; window.__slowMs = 1200")
    # 走访 (reads residents: slow now), then at once 设置 (does not)
    page.evaluate("location.hash = '#/visits'")
    page.wait_for_timeout(100)
    page.evaluate("location.hash = '#/settings'")
    # The list's render ends about 1.2 s after the tap; wait well past it.
    page.wait_for_timeout(2500)
    assert page.evaluate("location.hash") == "#/settings"
    assert page.get_attribute("body", "data-screen") == "settings"
    assert page.locator("#household-list").count() == 0, "the older list was drawn over 设置"
    assert page.locator("#storage-usage").count() == 1
    assert page.locator("#tabs a[data-tab=settings][aria-current=page]").count() == 1
    # And the order holds the other way round: the slow screen asked for last is the one shown.
    page.evaluate("window.__slowMs = 400; location.hash = '#/visits'")
    page.wait_for_selector("#household-list")
    assert page.get_attribute("body", "data-screen") == "visits"
    assert page.locator("#storage-usage").count() == 0
