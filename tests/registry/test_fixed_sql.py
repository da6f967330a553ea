"""The registration path's reads and inserts as fixed SQL (registry/fixed_sql.py) give
what the ORM gives: the same rows, the same fields loaded or deferred, the same related
objects at hand, and the same card inherited."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import APIToken, Metric, ModelCard, RegisteredModel
from registry.permissions import user_maintained_team_ids, user_team_ids
from registry.search import HEAVY_MODEL_FIELDS
from registry.selectors import model_get
from registry.services import card_update, token_authenticate, token_create, version_register

pytestmark = pytest.mark.django_db


def _loaded(obj) -> dict:
    deferred = obj.get_deferred_fields()
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in deferred
    }


def test_a_model_read_by_name_is_the_orms_row_with_its_team_and_owner(model, member):
    RegisteredModel.objects.filter(pk=model.pk).update(tag_list=["fraud", "payments"])
    orm = (
        RegisteredModel.objects.select_related("team", "owner")
        .defer(*HEAVY_MODEL_FIELDS)
        .get(pk=model.pk)
    )
    found = model_get(model.name.upper())
    assert _loaded(found) == _loaded(orm)
    assert found.get_deferred_fields() == orm.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert (found.team.slug, found.owner.username) == (orm.team.slug, member.username)
        assert found.tag_list == ["fraud", "payments"]
    assert queries.captured_queries == []
    assert found.search_text == RegisteredModel.objects.get(pk=model.pk).search_text


def test_an_unknown_model_name_is_a_404(model):
    with pytest.raises(Http404):
        model_get(model.name + "-x")


def test_a_token_brings_its_user_and_their_teams(member, team, other_team, is_postgres):
    token, secret = token_create(actor=member, name="pipeline")
    found = token_authenticate(secret)
    stored = APIToken.objects.get(pk=token.pk)
    assert _loaded(found) == {**_loaded(stored), "last_used_at": found.last_used_at}
    with CaptureQueriesContext(connection) as queries:
        assert found.user.username == member.username
        assert user_team_ids(found.user) == {team.pk}
        assert user_maintained_team_ids(found.user) == set()
    # On PostgreSQL the teams come with the token; elsewhere they are read on first use.
    assert len(queries.captured_queries) == (0 if is_postgres else 1)


def test_a_revoked_token_or_an_inactive_users_token_is_refused(member):
    token, secret = token_create(actor=member, name="pipeline")
    APIToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert token_authenticate(secret) is None
    _, secret = token_create(actor=member, name="second")
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert token_authenticate(secret) is None


def test_a_registration_inherits_the_newest_earlier_card(model, member):
    first = version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    card_update(
        actor=member,
        card=first.card,
        sections={"intended_use": "Scoring card payments.", "caveats_and_limitations": ""},
    )
    second = version_register(actor=member, model=model, label="2.0.0", framework="sklearn")
    card = ModelCard.objects.get(version=second)
    assert card.intended_use == "Scoring card payments."
    state = card.section_state("intended_use")
    assert state["status"] == "inherited"
    assert state["inherited_from"] == 1
    assert state["edited_for"] == 1
    assert state["edited_by"] == member.pk
    assert card.completeness == 0
    assert card.updated_at is not None
    assert second.snapshot.created_at == second.created_at


def test_the_inherited_card_is_stored_as_the_registration_holds_it(model, member):
    """The card rides in the INSERT as one jsonb record (json_record): every column,
    odd text and the timestamp's microseconds included, is stored as the snapshot
    holds it."""
    first = version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    odd = 'Quotes " and \\ backslashes,\nnew lines, {"json": [1]}, é ✓ and $1 %s'
    card_update(actor=member, card=first.card, sections={"intended_use": odd})
    second = version_register(actor=member, model=model, label="2.0.0", framework="sklearn")
    held = second.snapshot.card
    stored = ModelCard.objects.get(version=second)
    assert stored.intended_use == odd
    assert _loaded(stored) == _loaded(held)
    assert stored.updated_at.microsecond == held.updated_at.microsecond


def test_metrics_written_with_the_version_are_the_rows_stored_under_their_ids(model, member):
    given = [
        {"name": "recall", "value": 0.5, "dataset": "test", "higher_is_better": True},
        {"name": "auc", "value": 0.91, "dataset": "holdout", "higher_is_better": True},
        {"name": "loss", "value": 0.2, "dataset": "", "higher_is_better": False},
    ]
    version = version_register(
        actor=member, model=model, label="1.0.0", framework="sklearn", metrics=given
    )
    stored = {m.pk: m for m in Metric.objects.filter(version=version)}
    in_snapshot = list(version.snapshot.metrics.all())
    assert len(stored) == len(in_snapshot) == 3
    for metric in in_snapshot:  # each id names the row with the same values
        row = stored[metric.pk]
        assert (row.name, row.value, row.dataset, row.higher_is_better) == (
            metric.name,
            metric.value,
            metric.dataset,
            metric.higher_is_better,
        )
        assert row.version_id == metric.version_id == version.pk


def test_a_registration_without_metrics_stores_none(model, member):
    version = version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    assert not Metric.objects.filter(version=version).exists()
    assert list(version.snapshot.metrics.all()) == []


def test_a_registration_with_data_and_lineage_writes_one_verifiable_event(
    model, member, make_version
):
    # On PostgreSQL the data versions and lineage links are written before the version
    # row (its id is taken first; foreign keys are checked at commit) and the audit event
    # rides in the version's own INSERT: the rows, the event and the chain must agree.
    from audit.models import AuditEvent
    from audit.verification import chain_check
    from registry.audit_actions import Action

    parent = make_version(model)
    version = version_register(
        actor=member,
        model=model,
        label="2.0.0",
        framework="pytorch",
        metrics=[{"name": "auc", "value": 0.91, "dataset": "test"}],
        data_versions=[
            {
                "dataset": "claims",
                "version_or_uri": "s3://data/claims@7",
                "classification": "internal",
            }
        ],
        parents=[(parent, "fine_tuned_from")],
    )
    stored = version.__class__.objects.get(pk=version.pk)
    assert stored.number == parent.number + 1
    assert list(stored.data_versions.values_list("dataset", flat=True)) == ["claims"]
    assert [link.parent_id for link in stored.parent_links.all()] == [parent.pk]
    event = AuditEvent.objects.get(action=Action.VERSION_REGISTERED, object_id=str(version.pk))
    assert event.version_number == stored.number
    assert event.changes["data_versions"] == ["claims"]
    assert event.changes["parents"] == [
        {"model": model.name, "version": parent.number, "relation": "fine_tuned_from"}
    ]
    assert chain_check().ok


def test_a_version_read_is_the_orms_row_with_its_model_and_everything_its_page_shows(
    model, member, make_version, is_postgres
):
    # version_read's statement is fixed SQL on PostgreSQL: the same rows, the same fields
    # loaded or deferred, the same related objects at hand, the same parts, as the ORM
    # query it replaced (SQLite reads through version_get, which the ORM builds).
    from registry.models import ModelVersion
    from registry.selectors import version_get, version_read

    parent = make_version(model)
    make_version(
        model,
        hyperparameters={"lr": 0.01, "optimizer": "adam", "epochs": 20},
        data_versions=[{"dataset": "claims", "version_or_uri": "v7", "classification": "internal"}],
        parents=[(parent, "fine_tuned_from")],
    )
    read = version_read(model.name.upper(), 2, viewer=member, page=True)
    orm = (
        ModelVersion.objects.select_related("model__team", "model__owner", "created_by")
        .defer(*(f"model__{f}" for f in HEAVY_MODEL_FIELDS))
        .get(model=model, number=2)
    )
    assert _loaded(read) == _loaded(orm)
    assert _loaded(read.model) == _loaded(orm.model)
    assert read.model.get_deferred_fields() == orm.model.get_deferred_fields()
    reference = version_get(model, 2)
    with CaptureQueriesContext(connection) as queries:
        assert (read.model.team.slug, read.model.owner.username, read.created_by.username) == (
            orm.model.team.slug,
            orm.model.owner.username,
            orm.created_by.username,
        )
        assert [(m.name, m.value) for m in read.metrics.all()] == [
            (m.name, m.value) for m in reference.metrics.all()
        ]
        assert [d.dataset for d in read.data_versions.all()] == ["claims"]
        assert [link.parent.number for link in read.parent_links.all()] == [parent.number]
        assert read.card.pk == reference.card.pk
        assert [link.child.number for link in version_read(model.name, 1).child_links.all()] == [2]
    if is_postgres:  # loaded with the version: no query but the last read's one statement
        assert len(queries.captured_queries) == 1
    with pytest.raises(Http404):
        version_read(model.name, 3)
