"""Streaming exports of the audit log: every event (filtered as on the audit page), as CSV
or JSON Lines. Stage transitions, one row each with their approvers and gates, have their
own export, which the audit page links to (approvals.export).

Rows are read in keyset batches on the sequence number and written out batch by batch
(or, for the CSV on PostgreSQL, streamed straight from COPY ... TO STDOUT), so memory
stays flat whatever the size of the export. Timestamps are ISO 8601 in UTC with
microseconds. CSV is UTF-8 with a byte-order mark (so spreadsheets detect the encoding),
has a header row, quotes every cell, and makes every text cell formula-safe
(spreadsheet_safe in Python, _SAFE_TEXT in SQL).
"""

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection
from django.db.models import F, QuerySet, TextField
from django.db.models.expressions import RawSQL

from .models import AuditEvent

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


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet shows as text, never evaluates as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _timestamp(value) -> str:
    return value.isoformat(timespec="microseconds")


def _batches(rows: QuerySet, batch_size: int) -> Iterator[list[tuple]]:
    """`rows` (a values_list starting with the sequence) oldest first, in keyset batches."""
    last = None
    rows = rows.order_by("sequence")
    while True:
        batch = list((rows if last is None else rows.filter(sequence__gt=last))[:batch_size])
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
    record["timestamp"] = _timestamp(record["timestamp"])
    return record


def _event_cells(row: tuple) -> list:
    cells = list(row)
    cells[1] = _timestamp(cells[1])
    cells[13] = _json(cells[13])
    return [spreadsheet_safe(c) for c in cells]


# On PostgreSQL the database formats each event's cells (the same text as _event_cells
# and _event_record, except that JSON is spaced the way jsonb prints it), so Python only
# moves finished rows from the cursor into the csv writer: several times faster.
_ISO_TIME = """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_SAFE_TEXT = (  # ascii(): the first character's code; = + - @ tab CR get a leading quote
    "CASE WHEN ascii({c}) IN (61, 43, 45, 64, 9, 13) THEN chr(39) || {c} ELSE {c} END"
)
# The free-text columns; the others hold choices, numbers, hashes and timestamps.
_FREE_TEXT = {"actor_name", "model_name", "object_type", "object_id", "reason", "user_agent"}


def _pg_column(name: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(AuditEvent._meta.db_table)}.{quote(name)}"


def _pg_text(sql: str) -> RawSQL:
    return RawSQL(sql, [], output_field=TextField())


def _pg_csv_rows(qs: QuerySet) -> QuerySet:
    columns = []
    for name in EVENT_FIELDS:
        column = _pg_column(name)
        if name == "created_at":
            columns.append(_pg_text(_ISO_TIME.format(c=column)))
        elif name == "changes":
            columns.append(_pg_text(f"{column}::text"))
        elif name == "ip_address":
            columns.append(_pg_text(f"host({column})"))
        elif name in _FREE_TEXT:
            columns.append(_pg_text(_SAFE_TEXT.format(c=column)))
        else:
            columns.append(F(name))
    return qs.values_list(*columns)


def _pg_json_lines(qs: QuerySet) -> QuerySet:
    pairs = []
    for key, name in zip(EVENT_HEADER, EVENT_FIELDS, strict=True):
        value = _pg_column(name)
        if name == "created_at":
            value = _ISO_TIME.format(c=value)
        elif name == "ip_address":
            value = f"host({value})"
        pairs.append(f"'{key}', {value}")
    return qs.values_list("sequence", _pg_text(f"json_build_object({', '.join(pairs)})::text"))


def _database_formats(use_database: bool | None) -> bool:
    return connection.vendor == "postgresql" if use_database is None else use_database


def _csv(header: tuple, batches: Iterable[Iterable]) -> Iterator[bytes]:
    buffer = io.StringIO()
    # Quoting every cell is valid CSV for any reader and nearly twice as fast to write
    # as deciding per cell (QUOTE_MINIMAL scans each character).
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue().encode()


def _copy_csv(header: tuple, rows: QuerySet, chunk_bytes: int = 256 * 1024) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT), streamed as it arrives in
    chunks of about `chunk_bytes`: no row passes through Python's csv writer, which
    would cap the export well below the database's rate. `rows` must already hold the
    finished, formula-safe cells (_pg_csv_rows)."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(header)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    sql, params = rows.order_by("sequence").query.sql_with_params()
    with connection.cursor() as cursor:
        pg_cursor = cursor.cursor
        # COPY takes no bind parameters: psycopg quotes them into the statement.
        select = psycopg.ClientCursor(pg_cursor.connection).mogrify(sql, params)
        pending, size = [], 0
        with pg_cursor.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)") as copy:
            for data in copy:
                pending.append(bytes(data))
                size += len(data)
                if size >= chunk_bytes:
                    yield b"".join(pending)
                    pending, size = [], 0
        if pending:
            yield b"".join(pending)


def _lines(batches: Iterable[Iterable[str]]) -> Iterator[bytes]:
    for batch in batches:
        yield "".join(line + "\n" for line in batch).encode()


def events_csv(
    qs: QuerySet, batch_size: int = BATCH_SIZE, *, use_database: bool | None = None
) -> Iterator[bytes]:
    if _database_formats(use_database):
        return _copy_csv(EVENT_HEADER, _pg_csv_rows(qs))
    batches = _batches(qs.values_list(*EVENT_FIELDS), batch_size)
    return _csv(EVENT_HEADER, (map(_event_cells, batch) for batch in batches))


def events_jsonl(
    qs: QuerySet, batch_size: int = BATCH_SIZE, *, use_database: bool | None = None
) -> Iterator[bytes]:
    if _database_formats(use_database):
        batches = _batches(_pg_json_lines(qs), batch_size)
        return _lines((line for _, line in batch) for batch in batches)
    batches = _batches(qs.values_list(*EVENT_FIELDS), batch_size)
    return _lines((_json(_event_record(row)) for row in batch) for batch in batches)


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
}
