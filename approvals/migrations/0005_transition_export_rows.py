"""The transitions export's finished rows (TransitionExportRow), and those of the
requests closed before them: written by one INSERT ... SELECT, with the expressions the
export used until now (approvals.export as of this migration, frozen here so that a
later change to the export does not change what this migration does; a change to the
lines needs a migration of its own that rewrites them).

PostgreSQL only: on SQLite the export builds its rows as it goes and the table stays
empty.
"""

import django.db.models.deletion
from django.db import migrations, models

ROLLBACK = "tr.kind = 'rollback_review'"
ISO_TIME = """to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
OUTCOME = f"CASE WHEN {ROLLBACK} THEN 'rolled_back' ELSE tr.state END"
AT = f"CASE WHEN {ROLLBACK} THEN tr.created_at ELSE tr.closed_at END"
VALUES = {
    "request_id": "tr.id",
    "outcome": OUTCOME,
    "at": ISO_TIME.format(c=AT),
    "team": "t.name",
    "model": "m.name",
    "version": "v.number",
    "from_stage": "tr.from_stage",
    "to_stage": "tr.to_stage",
    "requester": "rq.username",
    "requested_at": ISO_TIME.format(c="tr.created_at"),
    "reason": "tr.reason",
    "approved_by": "coalesce(a.approved_by, '')",
    "approvals": "coalesce(a.approvals, '[]'::json)",
    "closed_by": "cb.username",
    "close_comment": "tr.close_comment",
    "policy_id": "tr.policy_id",
    "gates_passed": "tr.gates_passed",
    "gate_results": "tr.gate_results",
    "follow_up_state": f"CASE WHEN {ROLLBACK} THEN tr.state ELSE '' END",
    "follow_up_event_hash": f"CASE WHEN {ROLLBACK} THEN tr.event_hash ELSE '' END",
    "event_hash": f"CASE WHEN {ROLLBACK} THEN tr.rollback_event_hash ELSE tr.event_hash END",
}
FREE_TEXT = {"team", "model", "requester", "reason", "approved_by", "closed_by", "close_comment"}
SAFE_TEXT = "CASE WHEN ascii({c}) IN (61, 43, 45, 64, 9, 13) THEN chr(39) || {c} ELSE {c} END"


def _csv_cell(name: str, value: str) -> str:
    if name in FREE_TEXT:
        value = SAFE_TEXT.format(c=value)
    elif name in ("approvals", "gate_results"):
        value = f"{value}::text"
    elif name == "gates_passed":
        value = f"CASE {value} WHEN true THEN 't' WHEN false THEN 'f' END"
    return f"""coalesce('"' || replace(({value})::text, '"', '""') || '"', '')"""


CSV_LINE = " || ',' || ".join(_csv_cell(n, v) for n, v in VALUES.items()) + " || E'\\n'"
JSON_LINE = (
    "json_build_object(" + ", ".join(f"'{n}', {v}" for n, v in VALUES.items()) + ")::text || E'\\n'"
)

BACKFILL = f"""
INSERT INTO approvals_transitionexportrow
    (request_id, outcome, at, team_id, model_id, to_stage, csv_line, json_line)
SELECT tr.id, {OUTCOME}, {AT}, m.team_id, tr.model_id, tr.to_stage, {CSV_LINE}, {JSON_LINE}
FROM approvals_transitionrequest tr
JOIN registry_registeredmodel m ON m.id = tr.model_id
JOIN registry_team t ON t.id = m.team_id
JOIN registry_modelversion v ON v.id = tr.version_id
JOIN auth_user rq ON rq.id = tr.requester_id
LEFT JOIN auth_user cb ON cb.id = tr.closed_by_id
LEFT JOIN (
    SELECT r.request_id,
           string_agg(ru.username, '; ' ORDER BY r.created_at, r.id) AS approved_by,
           json_agg(json_build_object(
               'user', ru.username, 'at', {ISO_TIME.format(c="r.created_at")},
               'comment', r.comment
           ) ORDER BY r.created_at, r.id) AS approvals
    FROM approvals_review r JOIN auth_user ru ON ru.id = r.reviewer_id
    WHERE r.decision = 'approve'
    GROUP BY r.request_id
) a ON a.request_id = tr.id
WHERE tr.state IN ('applied', 'rejected', 'withdrawn') OR {ROLLBACK}
ORDER BY tr.id
"""


def compress_with_lz4(apps, schema_editor):
    """A row's two lines (2.8 kB together) are compressed to stay in the table's own
    pages; every export decompresses what it sends, and lz4 does that several times
    faster than PostgreSQL's default (pglz). Where the server was built without lz4,
    the default stays."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if cursor.fetchone()[0]:
            cursor.execute(
                "ALTER TABLE approvals_transitionexportrow"
                " ALTER COLUMN csv_line SET COMPRESSION lz4,"
                " ALTER COLUMN json_line SET COMPRESSION lz4"
            )


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # a million rows take minutes
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(BACKFILL)
        cursor.execute("ANALYZE approvals_transitionexportrow")


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0004_review_stale_at"),
        ("registry", "0010_risk_tier_stage_changes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TransitionExportRow",
            fields=[
                (
                    "request",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="approvals.transitionrequest",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("applied", "Applied"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                            ("rolled_back", "Rolled back (emergency)"),
                        ],
                        max_length=20,
                    ),
                ),
                ("at", models.DateTimeField()),
                (
                    "to_stage",
                    models.CharField(
                        choices=[
                            ("staging", "Staging"),
                            ("production", "Production"),
                            ("archived", "Archived"),
                        ],
                        max_length=20,
                    ),
                ),
                ("csv_line", models.TextField()),
                ("json_line", models.TextField()),
                (
                    "model",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.registeredmodel",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.team",
                    ),
                ),
            ],
        ),
        migrations.RunPython(compress_with_lz4, migrations.RunPython.noop),
        # The indexes after the rows: building each once is faster than growing it.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="transitionexportrow",
            index=models.Index(
                fields=["outcome", "to_stage", "request"], name="export_outcome_stage"
            ),
        ),
        migrations.AddIndex(
            model_name="transitionexportrow",
            index=models.Index(fields=["team", "request"], name="export_team"),
        ),
        migrations.AddIndex(
            model_name="transitionexportrow",
            index=models.Index(fields=["model", "request"], name="export_model"),
        ),
        migrations.AddIndex(
            model_name="transitionexportrow",
            index=models.Index(fields=["at"], name="export_at"),
        ),
    ]
