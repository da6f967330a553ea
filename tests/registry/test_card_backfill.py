"""Migration 0009 gives existing cards per-section provenance: text copied from the
previous version is inherited (does not count), text written for a version is edited for
it by the person the audit log names."""

import importlib

import pytest
from django.apps import apps

from registry.models import ModelCard
from registry.services import card_update

pytestmark = pytest.mark.django_db

migration = importlib.import_module("registry.migrations.0009_card_revision_provenance")


@pytest.fixture
def colleague(django_user_model, admin_user, team):
    from registry.services import team_member_add

    user = django_user_model.objects.create_user("carol", "carol@example.com", "pw")
    team_member_add(actor=admin_user, team=team, user=user)
    return user


def test_existing_cards_get_inherited_and_edited_sections(model, make_version, member, colleague):
    v1 = make_version(model)
    card_update(
        actor=member, card=v1.card, sections={"intended_use": "Use.", "training_data": "D1"}
    )
    v2 = make_version(model)
    card_update(actor=colleague, card=v2.card, sections={"training_data": "D2"})
    make_version(model)  # v3
    # A card loaded in bulk, without audit events, whose text differs from v3's.
    v4 = make_version(model)
    ModelCard.objects.filter(version=v4).update(intended_use="Bulk use.", updated_by=colleague)
    ModelCard.objects.update(provenance={})  # as before the migration

    migration.backfill(apps, None)

    cards = {c.version.number: c for c in ModelCard.objects.select_related("version")}
    first = cards[1].section_state("intended_use")
    assert (first["status"], first["edited_for"], first["edited_by"]) == ("edited", 1, member.pk)
    inherited = cards[2].section_state("intended_use")
    assert inherited["status"] == "inherited"
    assert (inherited["inherited_from"], inherited["edited_for"]) == (1, 1)
    assert inherited["edited_by"] == member.pk
    rewritten = cards[2].section_state("training_data")
    assert (rewritten["status"], rewritten["edited_for"]) == ("edited", 2)
    assert rewritten["edited_by"] == colleague.pk
    carried = cards[3].section_state("training_data")
    assert (carried["status"], carried["inherited_from"], carried["edited_for"]) == (
        "inherited",
        2,
        2,
    )
    bulk = cards[4].section_state("intended_use")
    assert (bulk["status"], bulk["edited_for"], bulk["edited_by"]) == ("edited", 4, colleague.pk)
    assert [cards[n].completeness for n in (1, 2, 3, 4)] == [22, 11, 0, 11]
    assert cards[3].inherited_sections == ["intended_use", "training_data"]
