"""Model version aliases in the registry: setting, moving, deleting, who may, which names,
what the audit log says, and protected aliases refused without an approved request."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.display import event_summary
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.errors import AliasMissing, AliasProtected
from registry.models import ModelAlias
from registry.selectors import alias_resolve, model_aliases
from registry.services import alias_delete, alias_is_protected, alias_set

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_setting_an_alias_points_it_at_the_version_with_one_event(member, model, version):
    alias = alias_set(actor=member, model=model, name="challenger", version=version)

    assert alias_resolve(model, "challenger") == version
    assert [a.name for a in model_aliases(model)] == ["challenger"]
    (event,) = _events(Action.ALIAS_SET)
    assert event.changes == {"alias": "challenger", "version": version.number, "request": None}
    assert event.version_number == version.number
    assert event.actor_name == member.username
    assert alias.set_by == member


def test_setting_it_again_moves_it_and_the_event_says_from_where(member, model, make_version):
    v1, v2 = make_version(model), make_version(model)
    alias_set(actor=member, model=model, name="challenger", version=v1)
    alias_set(actor=member, model=model, name="challenger", version=v2)

    assert ModelAlias.objects.filter(model=model).count() == 1
    assert alias_resolve(model, "challenger") == v2
    (event,) = _events(Action.ALIAS_MOVED)
    assert event.changes["version"] == [v1.number, v2.number]
    assert "</strong> moved from v1 to v2 by" in event_summary(event)


def test_pointing_it_where_it_points_records_nothing(member, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    alias_set(actor=member, model=model, name="challenger", version=version)

    assert len(_events(Action.ALIAS_SET)) == 1
    assert _events(Action.ALIAS_MOVED) == []


def test_names_ignore_case_and_keep_their_first_spelling(member, model, make_version):
    v1, v2 = make_version(model), make_version(model)
    alias_set(actor=member, model=model, name="Challenger", version=v1)
    alias_set(actor=member, model=model, name="CHALLENGER", version=v2)

    assert [a.name for a in model_aliases(model)] == ["Challenger"]
    assert alias_resolve(model, "challenger") == v2


def test_a_version_carries_several_aliases(member, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    alias_set(actor=member, model=model, name="shadow", version=version)

    assert sorted(version.aliases.values_list("name", flat=True)) == ["challenger", "shadow"]


def test_two_models_may_use_the_same_alias(member, make_model, make_version):
    a, b = make_model(), make_model()
    va, vb = make_version(a), make_version(b)
    alias_set(actor=member, model=a, name="challenger", version=va)
    alias_set(actor=member, model=b, name="challenger", version=vb)

    assert alias_resolve(a, "challenger") == va
    assert alias_resolve(b, "challenger") == vb


def test_a_version_of_another_model_is_refused(member, make_model, make_version):
    a, b = make_model(), make_model()
    other = make_version(b)
    make_version(a)

    with pytest.raises(ValidationError) as exc:
        alias_set(actor=member, model=a, name="challenger", version=other)
    assert "another model" in str(exc.value.message_dict["version"])
    assert not ModelAlias.objects.exists()


@pytest.mark.parametrize(
    "name, message",
    [
        ("latest", "'latest' is reserved"),
        ("LATEST", "'latest' is reserved"),
        ("v1", "reads as a version reference"),
        ("V12", "reads as a version reference"),
        ("", "Give the alias a name"),
        ("has space", "letters, digits, '_' or '-'"),
        ("-leading", "starting with a letter or digit"),
        ("a/b", "letters, digits, '_' or '-'"),
        ("é", "letters, digits, '_' or '-'"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_names_that_are_not_alias_names_are_refused(member, model, version, name, message):
    with pytest.raises(ValidationError) as exc:
        alias_set(actor=member, model=model, name=name, version=version)

    assert message in " ".join(exc.value.message_dict["alias"])
    assert not ModelAlias.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="registry.alias").count() == 0


@pytest.mark.parametrize("name", ["v1beta", "version2", "x" * 64, "a_b-C9", "7"])
def test_names_that_only_look_close_to_the_reserved_ones_are_fine(member, model, version, name):
    alias_set(actor=member, model=model, name=name, version=version)

    assert alias_resolve(model, name) == version


def test_only_those_who_may_edit_the_model_set_or_delete_aliases(member, outsider, model, version):
    with pytest.raises(PermissionDenied):
        alias_set(actor=outsider, model=model, name="challenger", version=version)
    alias_set(actor=member, model=model, name="challenger", version=version)
    with pytest.raises(PermissionDenied):
        alias_delete(actor=outsider, model=model, name="challenger")

    assert alias_resolve(model, "challenger") == version


def test_deleting_removes_it_with_one_event(member, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    alias_delete(actor=member, model=model, name="CHALLENGER")

    assert model_aliases(model) == []
    (event,) = _events(Action.ALIAS_DELETED)
    assert event.changes == {"alias": "challenger", "version": version.number}


def test_deleting_an_alias_that_is_not_there_says_so(member, model, version):
    with pytest.raises(AliasMissing) as exc:
        alias_delete(actor=member, model=model, name="challenger")
    assert "has no alias 'challenger'" in exc.value.message


def test_champion_is_protected_by_default_and_the_setting_changes_that(settings, model):
    assert alias_is_protected(model, "Champion")
    assert not alias_is_protected(model, "challenger")
    settings.MODELGATE_PROTECTED_ALIASES = ["prod"]
    assert alias_is_protected(model, "PROD")
    assert not alias_is_protected(model, "champion")


def test_a_protected_alias_is_refused_without_an_approved_request(member, model, version):
    with pytest.raises(AliasProtected) as exc:
        alias_set(actor=member, model=model, name="champion", version=version)

    assert "protected" in exc.value.message and "request" in exc.value.message
    assert exc.value.status_code == 403
    assert not ModelAlias.objects.exists()


def test_an_unrelated_request_does_not_open_a_protected_alias(member, model, make_version):
    v1, v2 = make_version(model), make_version(model)

    class Request:  # what approvals passes: a request about another version
        pk, model_id, version_id, alias = 7, model.pk, v1.pk, "champion"

    with pytest.raises(ValidationError):
        alias_set(
            actor=member, model=model, name="champion", version=v2, approved_request=Request()
        )
    assert not ModelAlias.objects.exists()


def test_a_protected_alias_cannot_be_deleted_by_hand(member, settings, model, version):
    settings.MODELGATE_PROTECTED_ALIASES = []
    alias_set(actor=member, model=model, name="champion", version=version)
    settings.MODELGATE_PROTECTED_ALIASES = ["champion"]

    with pytest.raises(AliasProtected) as exc:
        alias_delete(actor=member, model=model, name="champion")

    assert "cannot be deleted" in exc.value.message
    assert alias_resolve(model, "champion") == version
