"""What each rejection code means, in Chinese and English (docs/sync-protocol.md §Rejections).

The log stores the stable code and an English message; answers add `text` in the caller's
language (`?lang=` or Accept-Language), so a client without its own table can show it.
"""

from __future__ import annotations

from typing import Any

#: code → (中文, English). Every code a handler or the engine raises must be here
#: (tests/sync/test_reasons.py checks the sources and the protocol document; the app's own
#: catalogue pwa/js/i18n.js has a `reason.CODE` text for each: tests/pwa/test_catalogue.py).
REASONS: dict[str, tuple[str, str]] = {
    "INVALID_ARGS": ("数据格式不对。", "The data is not valid."),
    "UNKNOWN_MUTATION": (
        "服务器不认识这种操作,请更新应用。",
        "The server does not know this operation; update the app.",
    ),
    "OP_ID_REUSED": (
        "这条操作的编号已用过,未重复执行。",
        "This operation id was already used; not applied twice.",
    ),
    "ID_TAKEN": ("记录编号冲突。", "Record id clash."),
    "UNKNOWN_HOUSEHOLD": ("服务器上没有这户。", "The server has no such household."),
    "UNKNOWN_CASE": ("服务器上没有这个案件。", "The server has no such case."),
    "UNKNOWN_VISIT": ("服务器上没有这次走访。", "The server has no such visit."),
    "NOT_IN_SCOPE": ("不在您负责的范围内。", "Not in your scope."),
    "RESIDENT_NOT_IN_HOUSEHOLD": (
        "勾选的居民不在这户的登记中(可能已迁出),请核对后重新记录这次走访。",
        "A resident marked as seen is not registered in this household (they may have "
        "moved); check and log the visit again.",
    ),
    "BAD_CORRECTION": (
        "更正的走访不属于这户,或不是您记的。",
        "The corrected visit is not of this household, or not yours.",
    ),
    "BASE_VERSION_REQUIRED": ("修改缺少版本信息。", "The edit lacks its base version."),
    "CASE_CLOSED": ("案件已结案,不能再修改。", "The case is closed and can no longer be edited."),
    "STATUS_CONFLICT": (
        "案件状态已被中心更改(例如已结案),此操作未生效;其他内容已保留。",
        "The centre changed the case status meanwhile (e.g. closed it); "
        "this change did not apply. Everything else was kept.",
    ),
    "TRANSITION_NOT_ALLOWED": (
        "这个状态变更须由中心办理。",
        "This status change is made in the office.",
    ),
    "NOT_PERMITTED": ("您无权进行这个状态变更。", "You may not make this status change."),
    "UNKNOWN_FORM_VERSION": (
        "服务器上没有这个已发布的表单版本,请同步后重填。",
        "The server has no such published form version; sync and fill it in again.",
    ),
    "UNKNOWN_TARGET": (
        "服务器上没有这个专项任务对象。",
        "The server has no such campaign target.",
    ),
    "CAMPAIGN_NOT_PUBLISHED": (
        "这个专项行动尚未发布。",
        "This campaign is not published.",
    ),
    "WRONG_FORM": (
        "这份表单不是该专项行动的表单。",
        "This form does not belong to the campaign.",
    ),
    "CAMPAIGN_CLOSED": (
        "专项行动已结束,结束后填写的表单不再接收。",
        "The campaign has ended; forms filled in after it ended are not accepted.",
    ),
    "ANSWERS_INVALID": (
        "表单答案与表单不符(可能是旧版应用),请核对后重填。",
        "The answers do not fit the form (perhaps an old app version); check and fill it in again.",
    ),
    "INTEGRITY": ("数据与服务器上的记录冲突。", "The data clashes with a record on the server."),
    "INTERNAL_ERROR": (
        "服务器处理这条记录时出错,记录未生效;错误已记入服务器日志,请告知中心。",
        "The server failed on this record, so it was not applied; "
        "the error is in the server log: please tell the centre.",
    ),
}


def reason_text(code: str | None, language: str) -> str | None:
    """The code's meaning in `language` ("zh" or "en"); None for a code not in the table.

    >>> reason_text("CASE_CLOSED", "en")
    'The case is closed and can no longer be edited.'
    """
    pair = REASONS.get(code or "")
    if pair is None:
        return None
    return pair[1] if language == "en" else pair[0]


def add_texts(results: list[dict[str, Any]], language: str, key: str = "reason") -> None:
    """Add `text` next to each rejection's stored code and message (nothing is renamed)."""
    for result in results:
        reason = result.get(key)
        if isinstance(reason, dict) and reason.get("code"):
            text = reason_text(reason["code"], language)
            if text is not None:
                reason["text"] = text
