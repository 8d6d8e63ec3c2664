"""A mutation's row in the log (`sync_mutations`): what it may hold, how a rejection is
written into it, and the answer on the wire that it replays (framework-free, for the engine).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sync.errors import Rejected
from sync.models import APPLIED, REJECTED, MutationRecord
from sync.text import first_unstorable, storable

#: The largest integer a BIGINT column holds (base_version is stored in the log).
BIGINT_MAX = 2**63 - 1


def screen(args: dict[str, Any], base_version: int | None) -> None:
    """Raise Rejected (INVALID_ARGS naming the field) for arguments no database can hold
    (`sync.text.first_unstorable`: a NUL, a lone surrogate, an infinite number, deep nesting)
    and for a base_version no BIGINT holds; whatever the mutation, before its own schema.

    >>> screen({"lon": 121.4}, 7)
    >>> screen({}, 2**70)
    Traceback (most recent call last):
    ...
    sync.errors.Rejected: base_version is out of range
    """
    found = first_unstorable(args)
    if found is not None:
        where, what = found
        raise Rejected("INVALID_ARGS", what, field=where)
    if not storable_base_version(base_version):
        raise Rejected("INVALID_ARGS", "base_version is out of range", field="base_version")


def storable_base_version(base_version: int | None) -> bool:
    """True for no base version or one a BIGINT column holds (and a version can be)."""
    return base_version is None or 0 <= base_version <= BIGINT_MAX


def reject(
    record: dict[str, Any], rejected: Rejected, op_id: uuid.UUID, device_id: uuid.UUID
) -> None:
    """Turn a log row into the record of `rejected`, storable whatever the device sent."""
    if rejected.code == "OP_ID_REUSED":
        # op_id is UNIQUE in the log: this row gets a derived id, the sent one is kept.
        record["op_id"] = uuid.uuid5(op_id, f"{device_id}:{record['seq']}")
        rejected.details["sent_op_id"] = str(op_id)
    record.update(
        status=REJECTED,
        reason_code=rejected.code,
        reason_message=storable(rejected.message),
        result={"details": storable(rejected.details)} if rejected.details else {},
        # Only a rejected mutation can hold what no database stores (`screen`); its log row
        # keeps a copy with U+FFFD for each NUL or lone surrogate.
        name=storable(record["name"]),
        args=storable(record["args"]),
        base_version=_storable_int(record["base_version"]),
    )


def _storable_int(value: int | None) -> int | None:
    """`value` if a BIGINT column holds it, else None (the rejection says why)."""
    return value if value is None or -BIGINT_MAX - 1 <= value <= BIGINT_MAX else None


def record_of(row: MutationRecord) -> dict[str, Any]:
    """A stored log row as the record `result_of` answers from (a replay's `duplicate`)."""
    return {
        "seq": row.seq,
        "op_id": row.op_id,
        "status": row.status,
        "server_version": row.server_version,
        "reason_code": row.reason_code,
        "reason_message": row.reason_message,
        "result": row.result,
    }


def result_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of one mutation's outcome."""
    result = record.get("result")
    if record["status"] == APPLIED and result and "conflicts" not in result:
        # The common answer (a new visit, a report), built without the general path's copy.
        return {
            "seq": record["seq"],
            "op_id": str(record["op_id"]),
            "status": APPLIED,
            "version": record["server_version"],
            "result": result,
        }
    result = dict(result or {})
    sent_op_id = (result.get("details") or {}).get("sent_op_id")
    answer: dict[str, Any] = {
        "seq": record["seq"],
        "op_id": sent_op_id or str(record["op_id"]),
        "status": record["status"],
        "version": record["server_version"],
    }
    if record["status"] == REJECTED:
        answer["reason"] = {"code": record["reason_code"], "message": record["reason_message"]}
        if result.get("details"):
            answer["reason"]["details"] = result["details"]
    else:
        conflicts = result.pop("conflicts", None)
        if conflicts:
            answer["conflict"] = conflicts
        if result:
            answer["result"] = result
    return answer
