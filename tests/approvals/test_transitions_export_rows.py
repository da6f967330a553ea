"""The transitions export's stored rows (PostgreSQL): each closed or rolled-back request's
CSV and JSON lines are written by the service that closes or changes it, in its
transaction, and the export copies them out. What it copies must be, byte for byte,
what the export printed when it built every row at export time, also for text that CSV
must quote (newlines, quotes, backslashes) and after an emergency rollback's review
moves on."""

import importlib

import pytest
from django.db import connection, transaction

from approvals.export import (
    TransitionFilter,
    _header,
    _pg_cells,
    _pg_select,
    _pg_values,
    export_rows_rebuild,
    transitions_export,
)
from approvals.models import RequestState, TransitionExportRow, TransitionRequest
from approvals.services import (
    review_approve,
    review_reject,
    transition_request,
    transition_withdraw,
)
from registry.services import model_update, team_member_add

from .conftest import REASON
from .test_transitions_export import _csv_rows, _json_rows

pytestmark = [pytest.mark.django_db]

ODD_REASON = 'Line one, "quoted"\nline two with a back\\slash,\ta tab and\r\na CRLF: ünïcødé ✓'


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("the rows are stored on PostgreSQL only")


def _copy(sql: str, options: str) -> bytes:
    """What COPY (sql) TO STDOUT prints, whole."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH ({options})") as copy,
    ):
        return b"".join(bytes(data) for data in copy)


def _built_at_export_time(fmt: str) -> bytes:
    """The export as it was before the rows were stored: one query over the requests,
    reviews and users building every line, printed by COPY with these options."""
    if fmt == "csv":
        cells = ", ".join(f"{value} AS {name}" for name, value in _pg_cells().items())
        return _header() + _copy(_pg_select(cells, one_request=False), "FORMAT csv, FORCE_QUOTE *")
    pairs = ", ".join(f"'{name}', {value}" for name, value in _pg_values().items())
    return _copy(
        _pg_select(f"json_build_object({pairs})::text", one_request=False),
        "FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'",
    )


def _export(fmt: str, **filters) -> bytes:
    return b"".join(transitions_export(TransitionFilter(**filters), fmt))


def _assert_stored_rows_are_current():
    for fmt in ("csv", "jsonl"):
        assert _export(fmt) == _built_at_export_time(fmt), fmt


@pytest.fixture
def odd_request(member, model, make_ready_version, approver):
    """A rejected request whose reason and comment CSV must quote and JSON must escape."""
    version = make_ready_version(model)
    request = transition_request(
        actor=member, version=version, to_stage="staging", reason=ODD_REASON
    )
    return review_reject(
        actor=approver, request=request, comment='-1 "no"\nsee the \\\\share\\drift report'
    )


def test_stored_lines_are_byte_for_byte_what_the_export_built_before(history, odd_request):
    rows = TransitionExportRow.objects.count()
    assert rows == 9, "eight closed or rolled-back requests and the odd one; not the open one"
    csv_body = _export("csv")
    assert csv_body == _built_at_export_time("csv")
    assert _export("jsonl") == _built_at_export_time("jsonl")
    odd = next(r for r in _csv_rows(csv_body) if int(r["request_id"]) == odd_request.pk)
    assert odd["reason"] == ODD_REASON
    assert odd["close_comment"] == "'" + odd_request.close_comment
    json_rows = _json_rows(_export("jsonl", outcome="rejected"))
    assert ODD_REASON in [r["reason"] for r in json_rows]


def test_a_rollback_row_follows_its_review_until_it_closes(history, approver, second_approver):
    rollback = history["rollback"]
    row = _json_rows(_export("jsonl", outcome="rolled_back"))[0]
    assert (row["follow_up_state"], row["approvals"], row["closed_by"]) == ("open", [], None)

    review_approve(actor=approver, request=rollback, comment="Checked the incident report")
    row = _json_rows(_export("jsonl", outcome="rolled_back"))[0]
    assert row["follow_up_state"] == "open", "production needs two approvals"
    assert [a["comment"] for a in row["approvals"]] == ["Checked the incident report"]
    _assert_stored_rows_are_current()

    review_approve(actor=second_approver, request=rollback, comment="Agreed")
    rollback.refresh_from_db()
    assert rollback.state == RequestState.APPLIED
    row = _json_rows(_export("jsonl", outcome="rolled_back"))[0]
    assert row["follow_up_state"] == "applied"
    assert row["follow_up_event_hash"] == rollback.event_hash
    assert row["closed_by"] == second_approver.username
    assert row["approved_by"] == f"{approver.username}; {second_approver.username}"
    _assert_stored_rows_are_current()


def test_a_rejected_rollback_review_shows_in_its_row(history, approver):
    rollback = review_reject(
        actor=approver, request=history["rollback"], comment="The old version had the bug too"
    )
    row = next(r for r in _csv_rows(_export("csv")) if int(r["request_id"]) == rollback.pk)
    assert (row["outcome"], row["follow_up_state"]) == ("rolled_back", "rejected")
    assert row["close_comment"] == "The old version had the bug too"
    assert row["follow_up_event_hash"] == rollback.event_hash
    _assert_stored_rows_are_current()


def test_a_request_closed_in_a_transaction_that_fails_leaves_no_row(member, model, ready_version):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_withdraw(actor=member, request=request, comment="Filed too early")
        assert TransitionExportRow.objects.filter(request=request).exists()
        raise RuntimeError("the caller's transaction fails after the withdrawal")
    request.refresh_from_db()
    assert request.state == RequestState.OPEN
    assert not TransitionExportRow.objects.exists()
    assert _export("jsonl") == b""
    transition_withdraw(actor=member, request=request, comment="Filed too early")
    assert [r["outcome"] for r in _json_rows(_export("jsonl"))] == ["withdrawn"]


def test_filters_read_the_stored_rows_as_they_were_written(
    history, member, model, team, other_team, admin_user
):
    """A row names the model and team it had when it closed; the team filter goes by that
    team, the model filter by the model (whatever its name now)."""
    before = _json_rows(_export("jsonl"))
    team_member_add(actor=admin_user, team=other_team, user=member)
    model_update(actor=member, model=model, name="fraud-scorer-v2", team=other_team)
    assert _json_rows(_export("jsonl")) == before
    assert {r["model"] for r in before} == {"fraud-scorer"}
    assert _json_rows(_export("jsonl", team_id=team.pk)) == before
    assert _export("jsonl", team_id=other_team.pk) == b""
    assert _json_rows(_export("jsonl", model="FRAUD-SCORER-V2")) == before
    assert _export("jsonl", model="fraud-scorer") == b""
    production = _json_rows(_export("jsonl", to_stage="production", outcome="applied"))
    assert {r["request_id"] for r in production} == {
        r.pk for r in history["applied"] if r.to_stage == "production"
    }


def test_the_migration_and_the_rebuild_write_the_rows_the_services_wrote(history, odd_request):
    by_services = {r.pk: (r.csv_line, r.json_line) for r in TransitionExportRow.objects.all()}
    migration = importlib.import_module("approvals.migrations.0005_transition_export_rows")
    TransitionExportRow.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    by_migration = {r.pk: (r.csv_line, r.json_line) for r in TransitionExportRow.objects.all()}
    assert by_migration == by_services

    TransitionExportRow.objects.all().delete()
    assert export_rows_rebuild() == len(by_services)
    assert {
        r.pk: (r.csv_line, r.json_line) for r in TransitionExportRow.objects.all()
    } == by_services
    stored = TransitionExportRow.objects.get(pk=history["withdrawn"].pk)
    request = TransitionRequest.objects.select_related("model").get(pk=stored.pk)
    assert (stored.outcome, stored.to_stage, stored.model_id, stored.team_id) == (
        "withdrawn",
        request.to_stage,
        request.model_id,
        request.model.team_id,
    )
    assert stored.at == request.closed_at
