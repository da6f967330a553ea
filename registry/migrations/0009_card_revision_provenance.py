"""Model cards get a revision number (optimistic concurrency) and per-section provenance.

Backfill, per model in version order, for every section of every existing card:
- text equal to the same section of the previous version's card, and no card update of
  this version ever wrote that section (per the audit log): it was copied when the
  version was registered, so it is *inherited* from the previous version and does not
  count until someone reviews it. Its "last edited for" is carried over from the
  predecessor's section.
- anything else (text this version's card changed, or a first version): *edited* for
  its own version, by the last person the audit log shows writing that section (or the
  card's last editor when the log has nothing, e.g. bulk-loaded bench data), at that
  time.
Empty sections get the same states; they never count towards completeness.
"""

from django.db import migrations, models

SECTIONS = [
    "model_details",
    "intended_use",
    "out_of_scope_use",
    "training_data",
    "evaluation_data",
    "metrics_and_results",
    "ethical_considerations",
    "caveats_and_limitations",
    "recommendations",
]
CARD_UPDATED = "registry.card.updated"
BATCH = 1000


def _section_writers(AuditEvent) -> dict[str, dict[str, tuple]]:
    """{card id: {section: (user id, time)}} of the last audited write of each section."""
    writers: dict[str, dict[str, tuple]] = {}
    events = (
        AuditEvent.objects.filter(action=CARD_UPDATED, object_type="card")
        .order_by("sequence")
        .values_list("object_id", "actor_id", "created_at", "changes")
    )
    for card_id, actor_id, at, changes in events.iterator(chunk_size=BATCH):
        if isinstance(changes, dict):
            for name in SECTIONS:
                if name in changes:
                    writers.setdefault(card_id, {})[name] = (actor_id, at.isoformat())
    return writers


def backfill(apps, schema_editor):
    ModelCard = apps.get_model("registry", "ModelCard")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    writers = _section_writers(AuditEvent)
    cards = ModelCard.objects.order_by("version__model_id", "version__number").values_list(
        "id", "version__model_id", "version__number", "updated_by_id", "updated_at", *SECTIONS
    )
    previous = None  # (model id, version number, {section: (text, state)})
    pending = []
    for card_id, model_id, number, updated_by, updated_at, *texts in cards.iterator(
        chunk_size=BATCH
    ):
        written = writers.get(str(card_id), {})
        before = previous[2] if previous and previous[0] == model_id else {}
        states = {}
        for name, text in zip(SECTIONS, texts, strict=True):
            if name in before and before[name][0] == text and name not in written:
                carried = before[name][1]
                states[name] = {
                    "status": "inherited",
                    "edited_for": carried["edited_for"],
                    "edited_by": carried["edited_by"],
                    "edited_at": carried["edited_at"],
                    "inherited_from": previous[1],
                    "confirmed_by": None,
                    "confirmed_at": None,
                }
            else:
                by, at = written.get(name, (updated_by, updated_at.isoformat()))
                states[name] = {
                    "status": "edited",
                    "edited_for": number,
                    "edited_by": by,
                    "edited_at": at,
                    "inherited_from": None,
                    "confirmed_by": None,
                    "confirmed_at": None,
                }
        previous = (
            model_id,
            number,
            {n: (t, states[n]) for n, t in zip(SECTIONS, texts, strict=True)},
        )
        pending.append(ModelCard(id=card_id, provenance=states))
        if len(pending) >= BATCH:
            ModelCard.objects.bulk_update(pending, ["provenance"])
            pending = []
    if pending:
        ModelCard.objects.bulk_update(pending, ["provenance"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_team_roles"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelcard",
            name="revision",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="modelcard",
            name="provenance",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
