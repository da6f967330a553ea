"""The transitions export: one row per applied, rejected, withdrawn or rolled-back stage
transition, as CSV or JSON Lines, for audit staff to take away.

A row is a transition request that is closed, or the review request an emergency
rollback opened (outcome "rolled_back", whatever became of its review: the rollback
changed the stage at once, before anyone reviewed it). Columns (EXPORT_COLUMNS):

    request_id, outcome        the request; applied / rejected / withdrawn / rolled_back
    at                         when it happened: closed, or (a rollback) when rolled back
    team, model, version       version is the number within the model
    from_stage, to_stage
    requester, requested_at    who filed it (for a rollback: who broke the glass)
    reason
    approved_by                the approving reviewers' usernames, "carol; dave"
    approvals                  [{"user", "at", "comment"}] in the order given; every
                               approval is listed, also one that a later change made stale
                               (the applied event names those that counted)
    closed_by, close_comment   who closed it and what they said (the rejecting approver's
                               comment, the requester's on withdrawal)
    policy_id                  the policy version it was judged under
    gates_passed, gate_results the last gate evaluation: [{"check", "required", "actual",
                               "passed"}] (for an applied row: as it was when applied)
    follow_up_state            rollbacks only: the review's state (open, applied, ...)
    follow_up_event_hash       rollbacks only: the hash of the event that closed the review
    event_hash                 the chain hash of the transition's audit event (applied,
                               rejected, withdrawn, rolled back): look it up in the audit
                               log, or verify the chain, to check the row

Rows come in request id order. Times are ISO 8601 in UTC with microseconds. CSV is UTF-8
with a byte-order mark, a header, every cell quoted, free-text cells formula-safe (as
audit.export: a leading = + - @ tab or CR gets a quote mark), and the two lists as their
JSON text. JSON Lines: one object per line with the same keys.

A closed transition does not change, so on PostgreSQL each row is built once: the
service that closes a request (or changes an emergency rollback's review) writes the
row's CSV line and JSON line in its transaction (export_row_write, TransitionExportRow),
with the SQL expressions below, and the export copies the stored lines out in one COPY
... TO STDOUT; no row passes through Python but as bytes (bench/transitions_export.py).
A row holds the names (team, model, users) as they were when it was written, and the
team filter is that team. On SQLite (the embedded default) rows are read in keyset
batches and formatted in Python at export time: the same fields, far slower, which a
single-machine registry does not notice.
"""

import codecs
import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any

import psycopg
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models

from registry.models import ModelVersion, RegisteredModel, Team

from .models import (
    CLOSED_STATES,
    Decision,
    Outcome,
    RequestKind,
    Review,
    TransitionExportRow,
    TransitionRequest,
)

BATCH_SIZE = 2000
COPY_CHUNK_BYTES = 256 * 1024


EXPORT_COLUMNS = (
    "request_id",
    "outcome",
    "at",
    "team",
    "model",
    "version",
    "from_stage",
    "to_stage",
    "requester",
    "requested_at",
    "reason",
    "approved_by",
    "approvals",
    "closed_by",
    "close_comment",
    "policy_id",
    "gates_passed",
    "gate_results",
    "follow_up_state",
    "follow_up_event_hash",
    "event_hash",
)
# Cells a person typed (names, reasons, comments): the ones a spreadsheet could evaluate.
FREE_TEXT = {"team", "model", "requester", "reason", "approved_by", "closed_by", "close_comment"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TransitionFilter:
    """Which rows to export; empty fields do not filter. Dates are UTC days, inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    team_id: int | None = None
    model: str = ""  # a model's name, exact (case-insensitive)
    to_stage: str = ""
    outcome: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The filters that are set, as JSON-ready values (for the export's audit event)."""
        return {
            k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items() if v
        }


# --- PostgreSQL: lines built once by the database, copied out by each export --------------


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_ISO_TIME = """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
# ascii(): the first character's code; = + - @ tab CR get a leading quote (as audit.export).
_SAFE_TEXT = "CASE WHEN ascii({c}) IN (61, 43, 45, 64, 9, 13) THEN chr(39) || {c} ELSE {c} END"
_ROLLBACK = f"tr.kind = '{RequestKind.ROLLBACK_REVIEW}'"
_OUTCOME = f"CASE WHEN {_ROLLBACK} THEN '{Outcome.ROLLED_BACK}' ELSE tr.state END"
_AT = f"CASE WHEN {_ROLLBACK} THEN tr.created_at ELSE tr.closed_at END"


def _pg_values() -> dict[str, str]:
    """Each column's SQL expression over the FROM clause of _pg_select."""
    return {
        "request_id": "tr.id",
        "outcome": _OUTCOME,
        "at": _ISO_TIME.format(c=_AT),
        "team": "t.name",
        "model": "m.name",
        "version": "v.number",
        "from_stage": "tr.from_stage",
        "to_stage": "tr.to_stage",
        "requester": "rq.username",
        "requested_at": _ISO_TIME.format(c="tr.created_at"),
        "reason": "tr.reason",
        "approved_by": "coalesce(a.approved_by, '')",
        "approvals": "coalesce(a.approvals, '[]'::json)",
        "closed_by": "cb.username",
        "close_comment": "tr.close_comment",
        "policy_id": "tr.policy_id",
        "gates_passed": "tr.gates_passed",
        "gate_results": "tr.gate_results",
        "follow_up_state": f"CASE WHEN {_ROLLBACK} THEN tr.state ELSE '' END",
        "follow_up_event_hash": f"CASE WHEN {_ROLLBACK} THEN tr.event_hash ELSE '' END",
        "event_hash": f"CASE WHEN {_ROLLBACK} THEN tr.rollback_event_hash ELSE tr.event_hash END",
    }


def _pg_cells() -> dict[str, str]:
    """Each CSV cell's value: _pg_values made formula-safe, the lists as their JSON text."""
    cells = {}
    for name, value in _pg_values().items():
        if name in FREE_TEXT:
            value = _SAFE_TEXT.format(c=value)
        elif name in ("approvals", "gate_results"):
            value = f"{value}::text"
        cells[name] = value
    return cells


def _pg_csv_line() -> str:
    """The row as COPY ... (FORMAT csv, FORCE_QUOTE *) prints it: every value quoted with
    its quotes doubled, NULL as nothing, a boolean as t or f, a newline at the end."""
    cells = []
    for name, value in _pg_cells().items():
        if name == "gates_passed":
            value = f"CASE {value} WHEN true THEN 't' WHEN false THEN 'f' END"
        cells.append(f"""coalesce('"' || replace(({value})::text, '"', '""') || '"', '')""")
    return " || ',' || ".join(cells) + " || E'\\n'"


def _pg_json_line() -> str:
    pairs = ", ".join(f"'{name}', {value}" for name, value in _pg_values().items())
    return f"json_build_object({pairs})::text || E'\\n'"


_APPROVALS = f"""
    string_agg(ru.username, '; ' ORDER BY r.created_at, r.id) AS approved_by,
    json_agg(json_build_object(
        'user', ru.username, 'at', {_ISO_TIME.format(c="r.created_at")}, 'comment', r.comment
    ) ORDER BY r.created_at, r.id) AS approvals
"""


def _pg_select(columns: str, *, one_request: bool) -> str:
    """SELECT `columns` (expressions over _pg_values' FROM clause) for every exported
    request in id order, or (`one_request`) for the request whose id is the parameter.

    For every request the approvals are aggregated in one pass over the approving
    reviews, grouped by request and merged with the requests in id order (a subquery per
    request would cost more than everything else together); for one request, its
    reviews are read through the reviews' request index."""
    user = _t(get_user_model())
    approve = f"r.decision = '{Decision.APPROVE}'"
    closed = ", ".join(f"'{s}'" for s in CLOSED_STATES)
    # Alias requests change no stage: the audit log has them, the transitions export not.
    where = f"(tr.state IN ({closed}) OR {_ROLLBACK}) AND tr.kind <> '{RequestKind.ALIAS}'"
    if one_request:
        where += " AND tr.id = %s"
        approvals = f"""LATERAL (
            SELECT {_APPROVALS}
            FROM {_t(Review)} r JOIN {user} ru ON ru.id = r.reviewer_id
            WHERE r.request_id = tr.id AND {approve}
        ) a ON true"""
    else:
        approvals = f"""(
            SELECT r.request_id, {_APPROVALS}
            FROM {_t(Review)} r JOIN {user} ru ON ru.id = r.reviewer_id
            WHERE {approve}
            GROUP BY r.request_id
        ) a ON a.request_id = tr.id"""
    return f"""
        SELECT {columns}
        FROM {_t(TransitionRequest)} tr
        JOIN {_t(RegisteredModel)} m ON m.id = tr.model_id
        JOIN {_t(Team)} t ON t.id = m.team_id
        JOIN {_t(ModelVersion)} v ON v.id = tr.version_id
        JOIN {user} rq ON rq.id = tr.requester_id
        LEFT JOIN {user} cb ON cb.id = tr.closed_by_id
        LEFT JOIN {approvals}
        WHERE {where}
        ORDER BY tr.id
    """


_ROW_FIELDS = ("request_id", "outcome", "at", "team_id", "model_id", "to_stage")


def _pg_write_rows(*, one_request: bool) -> str:
    """INSERT the export rows of _pg_select's requests, replacing those already there."""
    fields = (*_ROW_FIELDS, "csv_line", "json_line")
    columns = ", ".join(
        ("tr.id", _OUTCOME, _AT, "m.team_id", "tr.model_id", "tr.to_stage")
        + (_pg_csv_line(), _pg_json_line())
    )
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in fields[1:])
    return f"""
        INSERT INTO {_t(TransitionExportRow)} ({", ".join(fields)})
        {_pg_select(columns, one_request=one_request)}
        ON CONFLICT (request_id) DO UPDATE SET {updates}
    """


def export_row_write(request: TransitionRequest) -> None:
    """(Re)write `request`'s row of the transitions export from what it is now, if it has
    one (closed, or an emergency rollback whatever its review's state). The services that
    close or change such a request call this last, in their transaction. PostgreSQL only:
    elsewhere the export builds its rows as it goes."""
    if connection.vendor != "postgresql":
        return
    if request.state not in CLOSED_STATES and request.kind != RequestKind.ROLLBACK_REVIEW:
        return
    if request.kind == RequestKind.ALIAS:
        return
    with connection.cursor() as cursor:
        cursor.execute(_pg_write_rows(one_request=True), [request.pk])


def export_rows_rebuild() -> int:
    """(Re)write every export row from the requests as they are now, in one statement;
    returns how many. For data written around the services (bench/ seeds by SQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_pg_write_rows(one_request=False))
        return cursor.rowcount


def _stored_where(f: TransitionFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = ["true"]
    params: list[Any] = []
    if f.outcome:
        where.append("outcome = %s")
        params.append(f.outcome)
    if f.to_stage:
        where.append("to_stage = %s")
        params.append(f.to_stage)
    if f.date_from:
        where.append("at >= %s")
        params.append(datetime.combine(f.date_from, time.min, tzinfo=UTC))
    if f.date_to:
        where.append("at < %s")
        params.append(datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=UTC))
    if f.team_id:
        where.append("team_id = %s")
        params.append(f.team_id)
    if f.model:
        where.append(
            f"model_id IN (SELECT id FROM {_t(RegisteredModel)} WHERE upper(name) = upper(%s))"
        )
        params.append(f.model)
    return where, params


def _stored_lines(f: TransitionFilter, column: str) -> tuple[str, list[Any]]:
    where, params = _stored_where(f)
    sql = f"""
        SELECT {column} FROM {_t(TransitionExportRow)}
        WHERE {" AND ".join(where)}
        ORDER BY request_id
    """
    return sql, params


# For the export's one statement: parallel workers would only add a merge of their
# streams in id order, and JIT compiling costs more than the few expressions save.
_SESSION = {"jit": "off", "max_parallel_workers_per_gather": "0"}
_BINARY_HEADER = 19  # signature (11 bytes), flags (4), header extension length (4)


def _copy_lines(sql: str, params: list[Any]) -> Iterator[bytes]:
    """Stream the text of the one column `sql` selects, each row's verbatim, in chunks of
    about COPY_CHUNK_BYTES.

    COPY's binary format, because it is the one that leaves text alone: the text format
    escapes backslashes and newlines, and the CSV format quotes a value holding a
    newline (a reason may). PostgreSQL sends one message per row: a field count (2
    bytes) and the value's length (4) before the text, which are cut off; the first
    message also carries the file header, and the last one is the trailer alone."""
    with connection.cursor() as cursor:
        pg_cursor = cursor.cursor
        # COPY takes no bind parameters: psycopg quotes them into the statement.
        select = psycopg.ClientCursor(pg_cursor.connection).mogrify(sql, params)
        for name, value in _SESSION.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        try:
            pending, size = [], 0
            with pg_cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT binary)") as copy:
                messages = iter(copy)
                first = next(messages)
                extension = int.from_bytes(first[15:_BINARY_HEADER], "big")
                for data in chain([first[_BINARY_HEADER + extension :]], messages):
                    if len(data) <= 2:  # the trailer (a field count of -1)
                        continue
                    pending.append(data[6:])
                    size += len(data)
                    if size >= COPY_CHUNK_BYTES:
                        yield b"".join(pending)
                        pending, size = [], 0
            if pending:
                yield b"".join(pending)
        finally:
            try:
                for name in _SESSION:
                    cursor.execute(f"RESET {name}")
            except DatabaseError:
                pass  # the connection is broken; Django discards it after the request


def _header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(EXPORT_COLUMNS)
    return codecs.BOM_UTF8 + buffer.getvalue().encode()


def _pg_csv(f: TransitionFilter) -> Iterator[bytes]:
    yield _header()
    yield from _copy_lines(*_stored_lines(f, "csv_line"))


def _pg_jsonl(f: TransitionFilter) -> Iterator[bytes]:
    yield from _copy_lines(*_stored_lines(f, "json_line"))


# --- Other databases: keyset batches formatted in Python -------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def _requests(f: TransitionFilter):
    qs = TransitionRequest.objects.filter(
        models.Q(state__in=CLOSED_STATES) | models.Q(kind=RequestKind.ROLLBACK_REVIEW)
    ).exclude(kind=RequestKind.ALIAS)
    rollback = models.Q(kind=RequestKind.ROLLBACK_REVIEW)
    if f.outcome == Outcome.ROLLED_BACK:
        qs = qs.filter(rollback)
    elif f.outcome:
        qs = qs.filter(~rollback, state=f.outcome)
    for day, lookup in ((f.date_from, "gte"), (f.date_to, "lt")):
        if day is None:
            continue
        if lookup == "lt":
            day = day + timedelta(days=1)
        moment = datetime.combine(day, time.min, tzinfo=UTC)
        qs = qs.filter(
            (rollback & models.Q(**{f"created_at__{lookup}": moment}))
            | (~rollback & models.Q(**{f"closed_at__{lookup}": moment}))
        )
    if f.team_id:
        qs = qs.filter(model__team_id=f.team_id)
    if f.model:
        qs = qs.filter(model__name__iexact=f.model)
    if f.to_stage:
        qs = qs.filter(to_stage=f.to_stage)
    return qs.select_related("model__team", "version", "requester", "closed_by").order_by("id")


def _records(f: TransitionFilter) -> Iterator[dict[str, Any]]:
    qs, last = _requests(f), 0
    while True:
        batch = list(qs.filter(id__gt=last)[:BATCH_SIZE])
        if not batch:
            return
        approvals = defaultdict(list)
        for r in (
            Review.objects.filter(request__in=batch, decision=Decision.APPROVE)
            .select_related("reviewer")
            .order_by("created_at", "id")
        ):
            approvals[r.request_id].append(
                {"user": r.reviewer.get_username(), "at": _iso(r.created_at), "comment": r.comment}
            )
        for tr in batch:
            yield _record(tr, approvals[tr.pk])
        last = batch[-1].pk


def _record(tr: TransitionRequest, approvals: list[dict]) -> dict[str, Any]:
    rollback = tr.kind == RequestKind.ROLLBACK_REVIEW
    return {
        "request_id": tr.pk,
        "outcome": Outcome.ROLLED_BACK.value if rollback else tr.state,
        "at": _iso(tr.created_at if rollback else tr.closed_at),
        "team": tr.model.team.name,
        "model": tr.model.name,
        "version": tr.version.number,
        "from_stage": tr.from_stage,
        "to_stage": tr.to_stage,
        "requester": tr.requester.get_username(),
        "requested_at": _iso(tr.created_at),
        "reason": tr.reason,
        "approved_by": "; ".join(a["user"] for a in approvals),
        "approvals": approvals,
        "closed_by": tr.closed_by.get_username() if tr.closed_by else None,
        "close_comment": tr.close_comment,
        "policy_id": tr.policy_id,
        "gates_passed": tr.gates_passed,
        "gate_results": tr.gate_results,
        "follow_up_state": tr.state if rollback else "",
        "follow_up_event_hash": tr.event_hash if rollback else "",
        "event_hash": tr.rollback_event_hash if rollback else tr.event_hash,
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cell(name: str, value: Any) -> Any:
    if name in ("approvals", "gate_results"):
        return _json(value)
    if name == "gates_passed":
        return "t" if value else "f"  # as PostgreSQL's COPY writes a boolean
    if name in FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _py_csv(f: TransitionFilter) -> Iterator[bytes]:
    yield _header()
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for n, record in enumerate(_records(f), 1):
        writer.writerow([_cell(k, v) for k, v in record.items()])
        if n % BATCH_SIZE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _py_jsonl(f: TransitionFilter) -> Iterator[bytes]:
    lines = []
    for record in _records(f):
        lines.append(_json(record) + "\n")
        if len(lines) == BATCH_SIZE:
            yield "".join(lines).encode()
            lines = []
    yield "".join(lines).encode()


# --- Entry points --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str
    label: str


FORMATS = {
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", "CSV"),
    "jsonl": ExportFormat("jsonl", "application/x-ndjson", "JSON Lines"),
}


def transitions_export(
    f: TransitionFilter, fmt: str, *, use_database: bool | None = None
) -> Iterator[bytes]:
    """The filtered transitions as `fmt` ("csv" or "jsonl"), as a stream of byte chunks.
    `use_database` forces (or avoids) the PostgreSQL path; by default it is used there."""
    if fmt not in FORMATS:
        raise ValueError(f"No transitions export format {fmt!r}")
    in_database = connection.vendor == "postgresql" if use_database is None else use_database
    if in_database:
        return _pg_csv(f) if fmt == "csv" else _pg_jsonl(f)
    return _py_csv(f) if fmt == "csv" else _py_jsonl(f)
