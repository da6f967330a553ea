"""Streaming exports of the audit log: every event, or one row per stage transition,
as CSV or JSON Lines.

Rows are read in keyset batches on the sequence number and written out batch by batch,
so memory stays flat whatever the size of the export. CSV is UTF-8 with a byte-order
mark (so spreadsheets detect the encoding), has a header row, and is written by the csv
module with every text cell made formula-safe (spreadsheet_safe).

Transition rows: the contract for the approvals app
----------------------------------------------------
A stage transition is an event with a non-empty `to_stage` (and `from_stage`, `reason`,
`request_id` set through audit.services.event_record). Who asked, who approved and what
the gates said are read from the event's `changes`, which the approvals app must write
with these keys:

    "requested_by":  "alice"                          # username of the requester
    "approved_by":   ["carol", "dave"]                # usernames, in approval order
    "gate_results":  [                                # as evaluated when applied
        {"gate": "min_auc", "passed": true, "detail": "auc 0.91 >= 0.85"},
        {"gate": "card_complete", "passed": false, "detail": "2 sections empty"},
    ]

Missing keys export as empty cells. A gate_results value of another shape is exported
as its JSON text rather than dropped.
"""

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

BATCH_SIZE = 5000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EVENT_FIELDS = (
    "sequence",
    "created_at",
    "actor_kind",
    "actor_name",
    "action",
    "model_name",
    "version_number",
    "object_type",
    "object_id",
    "request_id",
    "from_stage",
    "to_stage",
    "reason",
    "changes",
    "ip_address",
    "user_agent",
    "prev_hash",
    "hash",
)
EVENT_HEADER = (
    "sequence",
    "timestamp",
    "actor_kind",
    "actor",
    "action",
    "model",
    "version",
    "object_type",
    "object_id",
    "request_id",
    "from_stage",
    "to_stage",
    "reason",
    "changes",
    "ip_address",
    "user_agent",
    "prev_hash",
    "hash",
)
TRANSITION_HEADER = (
    "sequence",
    "timestamp",
    "model",
    "version",
    "from_stage",
    "to_stage",
    "requested_by",
    "approved_by",
    "reason",
    "gate_results",
    "request_id",
    "recorded_by",
    "event_hash",
)


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet shows as text, never evaluates as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _rows(qs: QuerySet, batch_size: int) -> Iterator[list[tuple]]:
    """The rows of `qs` as tuples of EVENT_FIELDS, oldest first, in keyset batches."""
    last = None
    base = qs.order_by("sequence").values_list(*EVENT_FIELDS)
    while True:
        batch = list((base if last is None else base.filter(sequence__gt=last))[:batch_size])
        if not batch:
            return
        yield batch
        if len(batch) < batch_size:
            return
        last = batch[-1][0]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _event_record(row: tuple) -> dict[str, Any]:
    record = dict(zip(EVENT_HEADER, row, strict=True))
    record["timestamp"] = record["timestamp"].isoformat()
    return record


def _event_cells(row: tuple) -> list:
    cells = list(row)
    cells[1] = cells[1].isoformat()
    cells[13] = _json(cells[13])
    return [spreadsheet_safe(c) for c in cells]


def gate_summary(gate_results: Any) -> str:
    """'2/3 passed; failed: card_complete (2 sections empty)' for the contract's list."""
    if not gate_results:
        return ""
    if not isinstance(gate_results, list) or not all(
        isinstance(g, dict) and "gate" in g for g in gate_results
    ):
        return _json(gate_results)
    passed = [g for g in gate_results if g.get("passed") is True]
    summary = f"{len(passed)}/{len(gate_results)} passed"
    failed = [
        f"{g['gate']} ({g['detail']})" if g.get("detail") else str(g["gate"])
        for g in gate_results
        if g.get("passed") is not True
    ]
    return summary + (f"; failed: {', '.join(failed)}" if failed else "")


def _transition_record(row: tuple) -> dict[str, Any]:
    event = dict(zip(EVENT_FIELDS, row, strict=True))
    changes = event["changes"] if isinstance(event["changes"], dict) else {}
    approved = changes.get("approved_by") or []
    return {
        "sequence": event["sequence"],
        "timestamp": event["created_at"].isoformat(),
        "model": event["model_name"],
        "version": event["version_number"],
        "from_stage": event["from_stage"],
        "to_stage": event["to_stage"],
        "requested_by": changes.get("requested_by") or "",
        "approved_by": approved if isinstance(approved, list) else [str(approved)],
        "reason": event["reason"],
        "gate_results": changes.get("gate_results") or [],
        "gate_summary": gate_summary(changes.get("gate_results")),
        "request_id": event["request_id"],
        "recorded_by": event["actor_name"],
        "event_hash": event["hash"],
    }


def _transition_cells(row: tuple) -> list:
    r = _transition_record(row)
    cells = [
        r["sequence"],
        r["timestamp"],
        r["model"],
        r["version"],
        r["from_stage"],
        r["to_stage"],
        r["requested_by"],
        "; ".join(str(a) for a in r["approved_by"]),
        r["reason"],
        r["gate_summary"],
        r["request_id"],
        r["recorded_by"],
        r["event_hash"],
    ]
    return [spreadsheet_safe(c) for c in cells]


def _csv(
    qs: QuerySet, header: tuple, cells: Callable[[tuple], list], batch_size: int
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    for batch in _rows(qs, batch_size):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(cells(row) for row in batch)
        yield buffer.getvalue().encode()


def _jsonl(qs: QuerySet, record: Callable[[tuple], dict], batch_size: int) -> Iterator[bytes]:
    for batch in _rows(qs, batch_size):
        yield "".join(_json(record(row)) + "\n" for row in batch).encode()


def events_csv(qs: QuerySet, batch_size: int = BATCH_SIZE) -> Iterator[bytes]:
    return _csv(qs, EVENT_HEADER, _event_cells, batch_size)


def events_jsonl(qs: QuerySet, batch_size: int = BATCH_SIZE) -> Iterator[bytes]:
    return _jsonl(qs, _event_record, batch_size)


def transitions_csv(qs: QuerySet, batch_size: int = BATCH_SIZE) -> Iterator[bytes]:
    return _csv(qs.exclude(to_stage=""), TRANSITION_HEADER, _transition_cells, batch_size)


def transitions_jsonl(qs: QuerySet, batch_size: int = BATCH_SIZE) -> Iterator[bytes]:
    return _jsonl(qs.exclude(to_stage=""), _transition_record, batch_size)


@dataclass(frozen=True)
class ExportKind:
    stream: Callable[[QuerySet], Iterator[bytes]]
    content_type: str
    filename: str  # without extension
    extension: str
    label: str


EXPORT_KINDS = {
    "events-csv": ExportKind(events_csv, "text/csv; charset=utf-8", "audit-events", "csv", "CSV"),
    "events-jsonl": ExportKind(
        events_jsonl, "application/x-ndjson", "audit-events", "jsonl", "JSON Lines"
    ),
    "transitions-csv": ExportKind(
        transitions_csv, "text/csv; charset=utf-8", "stage-transitions", "csv", "Transitions CSV"
    ),
    "transitions-jsonl": ExportKind(
        transitions_jsonl,
        "application/x-ndjson",
        "stage-transitions",
        "jsonl",
        "Transitions JSON Lines",
    ),
}
