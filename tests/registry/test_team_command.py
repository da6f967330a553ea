"""`manage.py team` staffs teams through the same audited services as the Teams pages."""

import pytest
from django.core.management import CommandError, call_command

from registry.models import TeamMembership

pytestmark = pytest.mark.django_db


def role(team, user):
    return (
        TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    )


def test_it_adds_a_maintainer_and_refuses_to_remove_the_last_one(admin_user, team, member):
    call_command("team", "--as", "admin", "maintainer-add", team.slug, "alice")
    assert role(team, member) == "maintainer"
    with pytest.raises(CommandError, match="alice is the last maintainer of Fraud Detection"):
        call_command("team", "--as", "admin", "maintainer-remove", team.slug, "alice")


def test_a_maintainer_adds_members_to_their_own_team_only(
    admin_user, team, other_team, django_user_model
):
    nina = django_user_model.objects.create_user("nina")
    oscar = django_user_model.objects.create_user("oscar")
    call_command("team", "--as", "admin", "add", "--maintainer", team.slug, "nina")
    assert role(team, nina) == "maintainer"
    call_command("team", "--as", "nina", "add", team.slug, "oscar")
    assert role(team, oscar) == "member"
    with pytest.raises(CommandError, match="Only platform admins and maintainers of Search"):
        call_command("team", "--as", "nina", "add", other_team.slug, "oscar")
    assert role(other_team, oscar) is None
