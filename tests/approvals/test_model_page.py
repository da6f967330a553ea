"""The model page's approvals section: per stage the policy that applies and where it
comes from, who may approve, the open requests, the risk tier; the flag of an open
emergency-rollback review; and the break-glass button. Its queries do not grow."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.services import (
    approver_grant,
    policy_publish,
    rollback_emergency,
    transition_request,
)

from .conftest import REASON

pytestmark = pytest.mark.django_db

PUBLISH_REASON = "Fraud models now need a named risk officer as well."


@pytest.fixture
def break_glass(django_user_model):
    user = django_user_model.objects.create_user("bree", "bree@example.com", "pw")
    user.groups.add(Group.objects.get(name="Break-glass"))
    return user


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def page(client, user, model):
    client.force_login(user)
    response = client.get(reverse("registry:model_detail", args=[model.name]))
    assert response.status_code == 200
    return response.content.decode()


def test_each_stage_shows_the_organisation_default_and_its_rules(client, member, model):
    html = page(client, member, model)
    assert 'id="risk-tier"' in html and "Medium risk" in html
    production = section(html, "approvals-production")
    assert "Organisation default" in production
    assert "The organisation default for medium-risk models." in production
    assert "2 distinct named approvers" in production
    assert "Staging only" in production
    archived = section(html, "approvals-archived")
    assert "none: applied as soon as the gates pass" in archived
    assert "nobody is named yet" in production


def test_team_and_model_overrides_say_where_they_come_from(client, member, model, team, governance):
    rules = {"required_approvals": 3, "separation_of_duties": True}
    policy_publish(
        actor=governance, stage="production", rules=rules, reason=PUBLISH_REASON,
        risk_tier="medium", team=team,
    )  # fmt: skip
    policy_publish(
        actor=governance, stage="staging", rules={"required_approvals": 1},
        reason=PUBLISH_REASON, model=model,
    )  # fmt: skip
    html = page(client, member, model)
    production = section(html, "approvals-production")
    assert "Team override" in production
    assert "Team Fraud Detection overrides the default for medium-risk models." in production
    assert "3 distinct named approvers" in production
    staging = section(html, "approvals-staging")
    assert "Model override" in staging and "fraud-scorer has its own Staging policy." in staging


def test_who_may_approve_lists_people_named_directly_through_groups_and_team_wide(
    client, member, model, team, admin_user, approver, django_user_model
):
    group = Group.objects.create(name="Risk officers")
    for name in ("rita", "raj"):
        django_user_model.objects.create_user(name).groups.add(group)
    gone = django_user_model.objects.create_user("zed", is_active=False)
    gone.groups.add(group)
    approver_grant(actor=admin_user, stage="production", model=model, group=group)
    approver_grant(
        actor=admin_user,
        stage="staging",
        team=team,
        user=django_user_model.objects.create_user("tess"),
    )
    html = page(client, member, model)
    production = section(html, "approvals-production")
    for name in ("carol", "raj", "rita"):
        assert f'<span class="person">{name}</span>' in production
    assert "zed" not in production  # deactivated accounts approve nothing
    assert "tess" in section(html, "approvals-staging")
    assert "tess" not in production


def test_open_requests_are_listed_under_their_stage_with_links(
    client, member, model, ready_version, approver
):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    html = page(client, member, model)
    staging = section(html, "approvals-staging")
    assert reverse("approvals:request", args=[request.pk]) in staging
    assert f"Request #{request.pk}</a>: v1" in staging
    assert "No open requests." in section(html, "approvals-production")


@pytest.fixture
def two_productions(model, make_ready_version, promote):
    """v1 went to production, then v2 replaced it."""
    v1, v2 = make_ready_version(model), make_ready_version(model)
    for v in (v1, v2):
        promote(v, "staging")
        promote(v, "production")
    return v1, v2


def test_break_glass_holders_see_the_rollback_button_and_nobody_else(
    client, member, approver, governance, admin_user, break_glass, model, two_productions
):
    for user in (member, approver, governance):
        assert 'id="rollback-button"' not in page(client, user, model)
    for user in (break_glass, admin_user):
        html = page(client, user, model)
        assert 'id="rollback-button"' in html and "Roll back to v1" in html
        assert reverse("approvals:rollback", args=[model.name]) in html


def test_no_rollback_button_without_an_earlier_production_version(
    client, break_glass, model, ready_version, promote
):
    promote(ready_version, "staging")
    promote(ready_version, "production")
    assert 'id="rollback-button"' not in page(client, break_glass, model)


def test_an_open_rollback_review_is_flagged_with_a_link(
    client, member, model, break_glass, two_productions, approver, second_approver
):
    assert 'id="rollback-flag"' not in page(client, member, model)
    review = rollback_emergency(actor=break_glass, model=model, reason="v2 doubles false positives")
    html = page(client, member, model)
    flag = html[
        html.index('id="rollback-flag"') : html.index("</section>", html.index("rollback-flag"))
    ]
    assert "Emergency rollback under review." in flag
    assert "bree put v1 back in Production" in flag
    assert reverse("approvals:request", args=[review.pk]) in flag
    from approvals.services import review_approve

    for reviewer in (approver, second_approver):
        review_approve(actor=reviewer, request=review)
    assert 'id="rollback-flag"' not in page(client, member, model)


def queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("viewer", ["member", "break_glass"])
def test_the_section_costs_the_same_however_many_requests_approvers_and_policies(
    request, client, viewer, model, make_model, make_ready_version, promote, admin_user,
    governance, team, django_user_model, member,
):  # fmt: skip
    """A member: 7 queries (session, user, model, versions table, charts, lineage, and
    the warning about Production's deployment notifications, as there is a Production).
    The user's teams, permissions and the navigation's review count come with the user;
    their grants on the model, the approvals section (policies, approvers, open
    requests), what the targets report serving, the aliases and the history with the
    model (issue 11). Bree, break-glass and in no team, pays one more for the version a
    rollback would restore."""
    client.force_login(request.getfixturevalue(viewer))
    url = reverse("registry:model_detail", args=[model.name])
    v1, v2 = make_ready_version(model), make_ready_version(model)
    for v in (v1, v2):
        promote(v, "staging")
        promote(v, "production")
    few = queries(client, url)
    group = Group.objects.create(name="Many approvers")
    for i in range(10):
        user = django_user_model.objects.create_user(f"approver{i}")
        user.groups.add(group)
        approver_grant(actor=admin_user, stage="production", model=model, user=user)
    approver_grant(actor=admin_user, stage="staging", team=team, group=group)
    for _ in range(6):
        transition_request(
            actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
        )
    policy_publish(
        actor=governance, stage="production", rules={"required_approvals": 3},
        reason=PUBLISH_REASON, risk_tier="medium", team=team,
    )  # fmt: skip
    assert queries(client, url) == few
    if connection.vendor == "postgresql":  # SQLite reads the folded parts one by one
        assert few == {"member": 7, "break_glass": 8}[viewer]


@pytest.mark.postgres  # the budget is PostgreSQL's (fixed SQL folds the page's parts)
@pytest.mark.parametrize("viewer", ["member", "outsider", "admin_user"])
def test_a_model_page_with_a_production_version_stays_within_budget(
    request, client, viewer, model, make_ready_version, promote
):
    """An outsider's page of a model with a Production version once took 16 queries; the
    budget is the model page's (tests/registry/test_query_counts.py) plus one for the
    check of Production's deployment notifications, and for an admin (who holds the
    break-glass permission) one more for the version a rollback would restore."""
    from tests.registry.test_query_counts import MODEL_PAGE_MAX_QUERIES

    version = make_ready_version(model)
    promote(version, "staging")
    promote(version, "production")
    client.force_login(request.getfixturevalue(viewer))
    budget = MODEL_PAGE_MAX_QUERIES + 1 + (viewer == "admin_user")
    assert queries(client, reverse("registry:model_detail", args=[model.name])) <= budget
