"""A platform admin staffs a new team in a real browser: creates it, adds a member and a
maintainer; the maintainer then sees the team in their nav."""

import os

import pytest

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import Team, TeamMembership

from .conftest import screenshot, signed_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_team_and_adds_a_member_and_a_maintainer(
    page, browser, live_server, admin_user, django_user_model, password
):
    django_user_model.objects.create_user("nina", "nina@example.com", password)
    django_user_model.objects.create_user("carol", "carol@example.com", password)

    signed_in(page, admin_user, password)
    page.click("nav.mainnav >> text=Teams")
    page.wait_for_url("**/teams/")
    assert "No teams yet" in page.locator("#no-teams").inner_text()

    page.fill("#id_name", "Credit Risk")
    page.fill("#id_description", "Loan default scoring")
    page.click("#create-team")
    page.wait_for_url("**/teams/credit-risk/")
    assert "Created team Credit Risk" in page.locator(".messages").inner_text()
    assert "has no members yet" in page.locator("#no-members").inner_text()

    # A typo first: the form says so and nothing changes.
    page.fill("#id_username", "nian")
    page.click("#add-member")
    assert "There is no active user named “nian”." in page.locator("#field-username").inner_text()

    page.fill("#id_username", "nina")
    page.click("#add-member")
    page.wait_for_selector("#member-nina")
    page.fill("#id_username", "carol")
    page.select_option("#id_role", "maintainer")
    page.click("#add-member")
    page.wait_for_selector("#member-carol")

    rows = page.locator("#members tbody tr")
    assert rows.count() == 2
    assert "Maintainer" in page.locator("#member-carol").inner_text()  # maintainers first
    assert rows.first.get_attribute("id") == "member-carol"
    assert "Member" in page.locator("#member-nina").inner_text()
    screenshot(page, "team-detail")

    team = Team.objects.get(name="Credit Risk")
    assert dict(TeamMembership.objects.filter(team=team).values_list("user__username", "role")) == {
        "nina": "member",
        "carol": "maintainer",
    }
    actions = list(
        AuditEvent.objects.filter(object_type="team", object_id=str(team.pk))
        .order_by("sequence")
        .values_list("action", "actor_name")
    )
    assert actions == [
        (Action.TEAM_CREATED, "admin"),
        (Action.TEAM_MEMBER_ADDED, "admin"),
        (Action.TEAM_MEMBER_ADDED, "admin"),
    ]

    # The maintainer finds the team from the nav and may manage its members.
    context = browser.new_context(base_url=live_server.url)
    other = context.new_page()
    signed_in(other, django_user_model.objects.get(username="carol"), password)
    other.click("nav.mainnav >> text=Teams")
    other.click("text=Credit Risk")
    assert other.locator("#member-nina button", has_text="Make maintainer").count() == 1
    context.close()
