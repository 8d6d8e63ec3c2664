"""The campaigns' refusals: typed, with a stable code, a field and a Chinese/English message.

They are `InvalidInput` (422: the office's input is wrong) or `Conflict` (409: the
campaign's state forbids it); `server/errors.py` renders them as pages or problem+json.
"""

from __future__ import annotations

from typing import Any

from server.exceptions import Conflict, InvalidInput


class CampaignInvalid(InvalidInput):
    """A campaign's fields or selection are wrong; nothing was stored."""

    code = "campaign_invalid"


class CampaignListUnmatched(CampaignInvalid):
    """Lines of an uploaded list match nothing on the register; nothing was stored.

    `details["unmatched"]` lists them as {"row": sheet row number, "value": the text}.
    """

    code = "campaign_list_unmatched"

    def __init__(self, message: Any, unmatched: list[dict[str, Any]]) -> None:
        super().__init__(message, field="list", details={"unmatched": unmatched})
        self.unmatched = unmatched


class CampaignStateConflict(Conflict):
    """The campaign is not in the state the action needs (edit a published one, close a draft)."""

    code = "campaign_state"
