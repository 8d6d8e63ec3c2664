"""The app's message catalogue: both languages have the same keys and placeholders."""

from __future__ import annotations

import json
import re

from server import REPO_ROOT
from tests.node_eval import node_eval


def catalogue() -> dict[str, dict[str, str]]:
    node = "import('./pwa/js/i18n.js').then(m => console.log(JSON.stringify(m.MESSAGES)))"
    out = node_eval(node.replace("./pwa", str(REPO_ROOT / "pwa")))
    return dict(json.loads(out))


def test_chinese_and_english_have_the_same_messages_and_placeholders() -> None:
    messages = catalogue()
    assert set(messages["zh"]) == set(messages["en"])
    for key, zh in messages["zh"].items():
        assert set(re.findall(r"\{\w+\}", zh)) == set(
            re.findall(r"\{\w+\}", messages["en"][key])
        ), key


def test_every_key_the_screens_use_is_in_the_catalogue() -> None:
    messages = catalogue()["zh"]
    used: set[str] = set()
    for path in (REPO_ROOT / "pwa").rglob("*.js"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[\w.]+)'", path.read_text()))
    used |= set(re.findall(r'data-i18n="([^"]+)"', (REPO_ROOT / "pwa/index.html").read_text()))
    assert used - set(messages) == set()


def test_the_app_has_words_in_both_languages_for_every_reason_the_server_can_send() -> None:
    """A rejected record shows why on the outbox screen: the app's own `reason.CODE` text
    for every code in server/fieldsync/reasons.py (which tests/sync/test_reasons.py holds
    to every code the handlers and the engine raise)."""
    from server.fieldsync.reasons import REASONS

    messages = catalogue()
    for language in ("zh", "en"):
        missing = {code for code in REASONS if f"reason.{code}" not in messages[language]}
        assert missing == set(), language
