"""The Teams pages: admins create teams and manage members and maintainers, a team's
maintainers manage their own team, everyone else gets 403; every change is audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from registry import team_urls
from registry.audit_actions import Action
from registry.choices import TeamRole
from registry.models import Team, TeamMembership
from registry.services import team_member_add

pytestmark = pytest.mark.django_db

LIST = reverse("teams:list")


def detail(team):
    return reverse("teams:detail", args=[team.slug])


def role_of(team, user):
    return (
        TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    )


@pytest.fixture
def maintainer(django_user_model, admin_user, team):
    user = django_user_model.objects.create_user("mia", "mia@example.com", "x")
    team_member_add(actor=admin_user, team=team, user=user, role=TeamRole.MAINTAINER)
    return user


@pytest.fixture
def newcomer(django_user_model):
    return django_user_model.objects.create_user("nina", "nina@example.com", "x")


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# --- the permission matrix -----------------------------------------------------------

# url name -> (method, whom it is open to). "managers": admins and the team's maintainers.
MATRIX = {
    "list": [("get", "any_manager"), ("post", "admin")],
    "detail": [("get", "managers")],
    "member_add": [("post", "managers")],
    "member_remove": [("post", "managers")],
    "maintainer_add": [("post", "managers")],
    "maintainer_remove": [("post", "admin")],  # another maintainer: admins only
}


def test_the_matrix_covers_every_teams_url():
    assert {p.name for p in team_urls.urlpatterns} == set(MATRIX)


def _request(client, name, method, team, target):
    if name == "list":
        url, data = LIST, {"name": "Credit Risk"}
    elif name == "detail":
        url, data = detail(team), {}
    elif name == "member_add":
        url, data = reverse("teams:member_add", args=[team.slug]), {"username": "nina"}
    else:
        url, data = reverse(f"teams:{name}", args=[team.slug, target.pk]), {}
    return getattr(client, method)(url, data)


CASES = [(name, method, who) for name, rows in MATRIX.items() for method, who in rows]


@pytest.mark.parametrize("name,method,who", CASES)
@pytest.mark.parametrize("user", ["anonymous", "outsider", "member", "maintainer", "admin"])
def test_every_teams_url_checks_permissions(
    client, request, team, member, maintainer, newcomer, outsider, name, method, who, user
):
    if user != "anonymous":
        client.force_login(request.getfixturevalue("admin_user" if user == "admin" else user))
    # A second maintainer, the target of the maintainer-only actions.
    target = request.getfixturevalue("django_user_model").objects.create_user("max")
    team_member_add(
        actor=request.getfixturevalue("admin_user"), team=team, user=target, role="maintainer"
    )
    if name == "maintainer_add":
        target = member
    elif name == "member_remove":
        target = request.getfixturevalue("django_user_model").objects.create_user("leo")
        team_member_add(actor=request.getfixturevalue("admin_user"), team=team, user=target)
    before = AuditEvent.objects.count()

    response = _request(client, name, method, team, target)

    allowed = user == "admin" or (user == "maintainer" and who in ("managers", "any_manager"))
    if user == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif allowed:
        assert response.status_code in (200, 302), response.content[:500]
    else:
        assert response.status_code == 403
    changed = AuditEvent.objects.count() > before
    assert changed == (allowed and method == "post")


def test_an_unknown_team_is_a_404(as_admin):
    assert as_admin.get("/teams/no-such-team/").status_code == 404


# --- pages ---------------------------------------------------------------------------


def test_the_nav_links_to_teams_for_admins_and_maintainers_only(
    client, admin_user, maintainer, member
):
    for user, shown in [(admin_user, True), (maintainer, True), (member, False)]:
        client.force_login(user)
        html = client.get(reverse("registry:catalog")).content.decode()
        assert (f'href="{LIST}"' in html) is shown, user


def test_the_list_has_an_empty_state_for_a_new_installation(as_admin):
    response = as_admin.get(LIST)
    assert response.status_code == 200
    assert b"No teams yet" in response.content
    assert b"Create a team" in response.content


def test_an_admin_creates_a_team(as_admin, admin_user):
    response = as_admin.post(LIST, {"name": "Credit Risk", "description": "Loan scoring"})
    team = Team.objects.get(name="Credit Risk")
    assert response.status_code == 302 and response["Location"] == detail(team)
    page = as_admin.get(response["Location"]).content.decode()
    assert "Created team Credit Risk" in page
    assert "has no members yet" in page
    [event] = _events(Action.TEAM_CREATED)
    assert event.actor_name == admin_user.username and event.changes["name"] == "Credit Risk"


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("!!!", "A team name needs at least one letter or digit."),
        ("fraud detection", "A team named &#x27;fraud detection&#x27; already exists."),
        ("x" * 101, "Ensure this value has at most 100 characters"),
        ("a\x00b", ""),  # any NUL is refused (400) before the form sees it
    ],
)
def test_a_bad_team_name_is_refused_next_to_the_field(as_admin, team, name, message):
    before = (Team.objects.count(), AuditEvent.objects.count())
    response = as_admin.post(LIST, {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Team.objects.count(), AuditEvent.objects.count()) == before


def test_maintainers_see_only_their_teams_and_cannot_create_one(client, maintainer, other_team):
    client.force_login(maintainer)
    html = client.get(LIST).content.decode()
    assert "Fraud Detection" in html and "Search Ranking" not in html
    assert "Create a team" not in html
    assert client.get(detail(other_team)).status_code == 403


def test_the_list_is_paginated(as_admin, admin_user):
    from registry.services import team_create

    for i in range(30):
        team_create(actor=admin_user, name=f"Team {i:02d}")
    first = as_admin.get(LIST).content.decode()
    assert first.count('href="/teams/team-') == 25
    second = as_admin.get(LIST, {"page": 2}).content.decode()
    assert second.count('href="/teams/team-') == 5
    assert as_admin.get(LIST, {"page": "x"}).status_code == 200


def test_the_detail_page_lists_maintainers_first_and_pages_members(
    as_admin, admin_user, team, django_user_model
):
    for i in range(55):
        team_member_add(
            actor=admin_user, team=team, user=django_user_model.objects.create_user(f"u{i:02d}")
        )
    boss = django_user_model.objects.create_user("zed")
    team_member_add(actor=admin_user, team=team, user=boss, role=TeamRole.MAINTAINER)
    html = as_admin.get(detail(team)).content.decode()
    assert html.count('<tr id="member-') == 50
    assert html.index('id="member-zed"') < html.index('id="member-u00"')
    assert "56 members, 1 maintainer" in html
    second = as_admin.get(detail(team), {"page": 2}).content.decode()
    assert second.count('<tr id="member-') == 6


def test_an_admin_adds_a_member_and_a_maintainer(as_admin, team, newcomer, django_user_model):
    url = reverse("teams:member_add", args=[team.slug])
    response = as_admin.post(url, {"username": "nina", "role": "member"})
    assert response.status_code == 302
    carol = django_user_model.objects.create_user("carol")
    as_admin.post(url, {"username": " carol ", "role": "maintainer"})
    assert role_of(team, newcomer) == TeamRole.MEMBER
    assert role_of(team, carol) == TeamRole.MAINTAINER
    page = as_admin.get(detail(team)).content.decode()
    assert "Added carol to Fraud Detection as maintainer." in page
    events = _events(Action.TEAM_MEMBER_ADDED)[-2:]
    assert [(e.changes["user"], e.changes["role"]) for e in events] == [
        ("nina", "member"),
        ("carol", "maintainer"),
    ]


@pytest.mark.parametrize(
    "username,message",
    [
        ("ghost", "There is no active user named “ghost”."),
        ("alice", "alice is already a member of Fraud Detection."),
        ("", "This field is required."),
        ("inactive", "There is no active user named “inactive”."),
    ],
)
def test_adding_a_member_refuses_bad_input_next_to_the_field(
    as_admin, team, member, django_user_model, username, message
):
    django_user_model.objects.create_user("inactive", is_active=False)
    before = (TeamMembership.objects.count(), AuditEvent.objects.count())
    response = as_admin.post(
        reverse("teams:member_add", args=[team.slug]), {"username": username, "role": "member"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (TeamMembership.objects.count(), AuditEvent.objects.count()) == before


def test_an_unknown_role_is_refused(as_admin, team, newcomer):
    response = as_admin.post(
        reverse("teams:member_add", args=[team.slug]), {"username": "nina", "role": "owner"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert role_of(team, newcomer) is None


def test_a_maintainer_adds_and_removes_members_of_their_team(client, maintainer, team, newcomer):
    client.force_login(maintainer)
    client.post(
        reverse("teams:member_add", args=[team.slug]), {"username": "nina", "role": "member"}
    )
    assert role_of(team, newcomer) == TeamRole.MEMBER
    client.post(reverse("teams:maintainer_add", args=[team.slug, newcomer.pk]))
    assert role_of(team, newcomer) == TeamRole.MAINTAINER
    # Another maintainer is an admin's business.
    response = client.post(reverse("teams:member_remove", args=[team.slug, newcomer.pk]))
    assert response.status_code == 403
    assert "Only a platform admin removes another maintainer" in response.content.decode()
    assert role_of(team, newcomer) == TeamRole.MAINTAINER
    # Stepping down themselves is theirs.
    client.post(reverse("teams:maintainer_remove", args=[team.slug, maintainer.pk]))
    assert role_of(team, maintainer) == TeamRole.MEMBER
    actors = {
        e.actor_name for e in AuditEvent.objects.filter(object_type="team", changes__user="nina")
    }
    assert actors == {"mia"}


def test_the_audit_log_says_who_was_made_maintainer_by_whom(client, admin_user, team, member):
    from django.utils.html import strip_tags

    from audit.display import event_summary
    from registry.services import team_maintainer_add, team_maintainer_remove

    team_maintainer_add(actor=admin_user, team=team, user=member)
    team_member_add(actor=admin_user, team=team, user=admin_user, role=TeamRole.MAINTAINER)
    team_maintainer_remove(actor=admin_user, team=team, user=member)
    added, removed = (
        strip_tags(event_summary(e))
        for e in _events(Action.TEAM_MAINTAINER_ADDED) + _events(Action.TEAM_MAINTAINER_REMOVED)
    )
    assert added == "alice made a maintainer of team Fraud Detection by admin"
    assert removed == "alice no longer a maintainer of team Fraud Detection by admin"


def test_the_last_maintainer_cannot_be_removed_or_demoted(as_admin, team, maintainer):
    for name in ("member_remove", "maintainer_remove"):
        before = AuditEvent.objects.count()
        response = as_admin.post(reverse(f"teams:{name}", args=[team.slug, maintainer.pk]))
        assert response.status_code == 302
        page = as_admin.get(detail(team)).content.decode()
        assert "mia is the last maintainer of Fraud Detection" in page
        assert role_of(team, maintainer) == TeamRole.MAINTAINER
        assert AuditEvent.objects.count() == before


def test_a_member_who_owns_a_model_of_the_team_stays_until_it_is_handed_over(
    as_admin, team, member, model
):
    as_admin.post(reverse("teams:member_remove", args=[team.slug, member.pk]))
    page = as_admin.get(detail(team)).content.decode()
    assert "alice owns models of Fraud Detection (fraud-scorer)" in page
    assert role_of(team, member) == TeamRole.MEMBER


def test_removing_a_member_takes_away_their_edit_rights(client, admin_user, team, newcomer, model):
    team_member_add(actor=admin_user, team=team, user=newcomer)
    edit = reverse("registry:model_edit", args=[model.name])
    client.force_login(newcomer)
    assert client.get(edit).status_code == 200
    client.force_login(admin_user)
    response = client.post(reverse("teams:member_remove", args=[team.slug, newcomer.pk]))
    assert response.status_code == 302
    assert role_of(team, newcomer) is None
    [event] = _events(Action.TEAM_MEMBER_REMOVED)
    assert event.changes == {"team": "Fraud Detection", "user": "nina", "role": "member"}
    client.force_login(newcomer)
    assert client.get(edit).status_code == 403


def test_acting_on_someone_outside_the_team_is_a_404(as_admin, team, outsider):
    for name in ("member_remove", "maintainer_add", "maintainer_remove"):
        assert (
            as_admin.post(reverse(f"teams:{name}", args=[team.slug, outsider.pk])).status_code
            == 404
        )


def test_changes_need_a_post_with_a_csrf_token(client, admin_user, team, newcomer):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    url = reverse("teams:member_add", args=[team.slug])
    assert strict.post(url, {"username": "nina", "role": "member"}).status_code == 403
    assert strict.post(LIST, {"name": "Credit Risk"}).status_code == 403
    assert (
        strict.get(reverse("teams:member_remove", args=[team.slug, admin_user.pk])).status_code
        == 405
    )
    assert role_of(team, newcomer) is None
    assert not Team.objects.filter(name="Credit Risk").exists()


def test_the_detail_page_has_a_fixed_number_of_queries(
    as_admin, admin_user, team, django_user_model
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert as_admin.get(detail(team)).status_code == 200
        return len(ctx.captured_queries)

    team_member_add(actor=admin_user, team=team, user=django_user_model.objects.create_user("a1"))
    few = count()
    for i in range(20):
        team_member_add(
            actor=admin_user, team=team, user=django_user_model.objects.create_user(f"b{i}")
        )
    assert count() == few
