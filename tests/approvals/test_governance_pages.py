"""The governance pages: a model's named approvers and risk tier, the policies and
publishing their next version, and the break-glass rollback. Everyone signed in reads
approvers and policies; only governance staff and admins change them; only break-glass
holders and admins roll back."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import governance_views
from approvals import urls as approvals_urls
from approvals.approvers import approver_names_by_stage
from approvals.audit_actions import ApprovalAction
from approvals.models import Policy, PolicyScope, RequestKind, TransitionRequest
from audit.models import AuditEvent
from registry.stages import Stage

pytestmark = pytest.mark.django_db

ROLLBACK_REASON = "v2 doubles the false positives at checkout."
TIER_REASON = "Now decides on payments above 10,000 EUR without review."
POLICY_REASON = "Auditors asked for an AUC floor on the hold-out set."

USERS = ["anonymous", "member", "approver", "governance", "admin_user", "break_glass"]
GOVERNANCE = {"governance", "admin_user"}
BREAK_GLASS = {"break_glass", "admin_user"}
EVERYONE = set(USERS) - {"anonymous"}


@pytest.fixture
def break_glass(django_user_model):
    user = django_user_model.objects.create_user("bree", "bree@example.com", "pw")
    user.groups.add(Group.objects.get(name="Break-glass"))
    return user


@pytest.fixture
def two_productions(model, make_ready_version, promote):
    """v1 went to production, then v2 replaced it (v1 is archived)."""
    v1, v2 = make_ready_version(model), make_ready_version(model)
    for v in (v1, v2):
        promote(v, "staging")
        promote(v, "production")
    return v1, v2


def publish_data(**overrides) -> dict:
    data = {
        "scope": "org",
        "stage": "production",
        "risk_tier": "medium",
        "team": "",
        "model": "",
        "required_approvals": "2",
        "separation_of_duties": "on",
        "required_sections": ["model_details", "intended_use"],
        "require_lineage": "on",
        "reason": POLICY_REASON,
        "thresholds-TOTAL_FORMS": "2",
        "thresholds-INITIAL_FORMS": "0",
        "thresholds-0-metric": "auc",
        "thresholds-0-dataset": "holdout",
        "thresholds-0-comparator": ">=",
        "thresholds-0-value": "0.85",
        # A blank row as a browser sends it: its select still has its first option.
        "thresholds-1-comparator": ">=",
        "regression-TOTAL_FORMS": "1",
        "regression-INITIAL_FORMS": "0",
        "regression-0-metric": "auc",
        "regression-0-dataset": "holdout",
        "regression-0-max_drop": "0.01",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


ON_PRODUCTION = {"stage": "production", "on": "model"}
# (url name, method, who may, data). Reads are open to everyone signed in.
MATRIX = [
    ("model_approvers", "get", EVERYONE, None),
    ("approver_add", "post", GOVERNANCE, lambda c: {**ON_PRODUCTION, "user": "eve"}),
    ("approver_remove", "post", GOVERNANCE, lambda c: {**ON_PRODUCTION, "user": c["approver"].pk}),
    ("risk_tier_set", "post", GOVERNANCE, lambda c: {"risk_tier": "high", "reason": TIER_REASON}),
    ("policies", "get", EVERYONE, None),
    ("policy_history", "get", EVERYONE, None),
    ("policy_publish", "get", GOVERNANCE, None),
    ("policy_publish", "post", GOVERNANCE, lambda c: publish_data()),
    ("rollback", "get", BREAK_GLASS, None),
    ("rollback", "post", BREAK_GLASS, lambda c: {"reason": ROLLBACK_REASON}),
]  # fmt: skip


def test_the_matrix_covers_every_governance_url():
    names = {
        p.name
        for p in approvals_urls.urlpatterns
        if p.callback.__module__ == governance_views.__name__
    }
    assert names == {name for name, _, _, _ in MATRIX}


def _url(name, model):
    if name in ("policies", "policy_publish"):
        return reverse(f"approvals:{name}")
    if name == "policy_history":
        return reverse(f"approvals:{name}", args=[Policy.objects.order_by("pk").first().pk])
    return reverse(f"approvals:{name}", args=[model.name])


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(("name", "method", "allowed", "data"), MATRIX)
def test_permission_matrix(
    request, client, who, name, method, allowed, data, model, approver, django_user_model
):
    if name == "rollback":
        request.getfixturevalue("two_productions")
    django_user_model.objects.create_user("eve")
    cast = {"approver": approver}
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    url = _url(name, model)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, data(cast))
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    elif who in allowed:
        assert response.status_code == (200 if method == "get" else 302), response.content[:2000]
    else:
        assert response.status_code == 403


def test_non_governance_users_see_the_approvers_read_only(client, member, model, approver):
    client.force_login(member)
    html = client.get(reverse("approvals:model_approvers", args=[model.name])).content.decode()
    assert "carol" in html and "This model" in html
    assert "Only governance staff and admins change them." in html
    assert 'id="approver-form"' not in html and 'id="risk-tier-form"' not in html
    assert "Remove</button>" not in html


def test_governance_names_a_user_and_a_team_wide_group(
    client, governance, model, django_user_model
):
    django_user_model.objects.create_user("eve")
    officers = Group.objects.create(name="Risk officers")
    client.force_login(governance)
    url = reverse("approvals:approver_add", args=[model.name])
    response = client.post(url, {"user": "EVE", "stage": "production", "on": "model"}, follow=True)
    assert (
        "eve may now approve moves into Production for fraud-scorer." in response.content.decode()
    )
    response = client.post(
        url, {"group": officers.pk, "stage": "staging", "on": "team"}, follow=True
    )
    html = response.content.decode()
    assert "Group <strong>Risk officers</strong>" in html
    assert "Every model of Fraud Detection" in html
    assert approver_names_by_stage(model)["production"] == ["eve"]
    events = AuditEvent.objects.filter(action=ApprovalAction.APPROVER_GRANTED).order_by("sequence")
    assert [e.changes.get("user") or e.changes.get("group") for e in events] == [
        "eve",
        "Risk officers",
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"user": "nobody", "stage": "production", "on": "model"}, "user", "No user named"),
        ({"stage": "production", "on": "model"}, None, "Name one user or one group."),
        ({"user": "eve", "stage": "none", "on": "model"}, "stage", "Select a valid choice"),
    ],
)
def test_a_bad_grant_says_what_is_wrong_and_names_nobody(
    client, governance, model, django_user_model, data, field, message
):
    django_user_model.objects.create_user("eve")
    client.force_login(governance)
    response = client.post(reverse("approvals:approver_add", args=[model.name]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    if field:
        assert response.context["grant_form"].errors[field]
    assert approver_names_by_stage(model)["production"] == []


def test_a_deactivated_user_cannot_be_named(client, governance, model, django_user_model):
    django_user_model.objects.create_user("gone", is_active=False)
    client.force_login(governance)
    response = client.post(
        reverse("approvals:approver_add", args=[model.name]),
        {"user": "gone", "stage": "production", "on": "model"},
    )
    assert response.status_code == 400 and "gone is deactivated." in response.content.decode()


def test_governance_removes_an_approver(client, governance, model, approver):
    client.force_login(governance)
    response = client.post(
        reverse("approvals:approver_remove", args=[model.name]),
        {"stage": "production", "on": "model", "user": approver.pk},
        follow=True,
    )
    assert "carol no longer approves moves into Production here." in response.content.decode()
    names = approver_names_by_stage(model)
    assert names["production"] == [] and names["staging"] == ["carol"]
    event = AuditEvent.objects.filter(action=ApprovalAction.APPROVER_REVOKED).get()
    assert event.actor_id == governance.pk and event.changes["stage"] == "production"


def test_governance_changes_the_risk_tier_and_the_model_page_follows(client, governance, model):
    client.force_login(governance)
    url = reverse("approvals:risk_tier_set", args=[model.name])
    response = client.post(url, {"risk_tier": "critical", "reason": "too short"})
    assert response.status_code == 400 and "Say why in at least" in response.content.decode()
    response = client.post(url, {"risk_tier": "critical", "reason": TIER_REASON}, follow=True)
    assert "fraud-scorer is now critical risk" in response.content.decode()
    model.refresh_from_db()
    assert model.risk_tier == "critical"
    html = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()
    assert "Critical risk" in html
    assert "The organisation default for critical-risk models." in html
    assert "3 distinct named approvers" in html


def test_the_policies_page_groups_current_policies_with_their_history(client, member, governance):
    from approvals.services import policy_publish

    policy_publish(
        actor=governance, stage="production", risk_tier="critical",
        rules={"required_approvals": 4}, reason=POLICY_REASON,
    )  # fmt: skip
    client.force_login(member)
    html = client.get(reverse("approvals:policies")).content.decode()
    assert 'id="publish-new"' not in html and "Publish a new version" not in html
    production = html[html.index('id="stage-production"') : html.index('id="stage-archived"')]
    critical = production[production.index("Critical risk") :]
    assert "version 2" in critical and "Published by gina" in critical
    assert POLICY_REASON in critical and "4 distinct named approvers" in critical
    assert "Earlier versions (1)" in critical
    assert "Version 1: 3 approvals" in critical and "Organisation default, installed" in critical


def _publish_versions(actor, count: int, **line) -> list[Policy]:
    from approvals.services import policy_publish

    line = {"stage": "production", "risk_tier": "critical", **line}
    return [
        policy_publish(
            actor=actor, rules={"required_approvals": 2 + n % 3},
            reason=f"Revision {n} of the critical-risk rules.", **line,
        )
        for n in range(count)
    ]  # fmt: skip


def test_the_policies_page_shows_the_latest_earlier_versions_and_links_to_all(
    client, member, governance
):
    _publish_versions(governance, 6)  # versions 2..7 of the critical production default
    client.force_login(member)
    html = client.get(reverse("approvals:policies")).content.decode()
    production = html[html.index('id="stage-production"') : html.index('id="stage-archived"')]
    critical = production[production.index("Critical risk") :]
    assert "version 7" in critical and "Earlier versions (6)" in critical
    assert "Revision 5 of" in critical  # the one in force
    assert all(f"Version {n}:" in critical for n in (6, 5, 4))
    assert "Version 3:" not in critical and "Version 1:" not in critical
    current = Policy.objects.get(risk_tier="critical", stage="production", superseded_at=None)
    assert f'href="{reverse("approvals:policy_history", args=[current.pk])}"' in critical
    assert "All 7 versions, with their rules" in critical


def test_the_history_of_a_policy_is_paged_newest_first(client, member, governance):
    policies = _publish_versions(governance, 24)  # versions 2..25
    client.force_login(member)
    url = reverse("approvals:policy_history", args=[policies[0].pk])  # any version leads there
    first = client.get(url).content.decode()
    assert "Organisation, Critical risk: into Production" in first
    numbers = [int(n) for n in re.findall(r"Version (\d+)</strong>", first)]
    assert numbers == list(range(25, 5, -1))
    assert "In force" in first and first.count("Superseded") == 19
    assert "4 distinct named approvers" in first  # version 25's rules, in full
    assert 'href="?page=2"' in first and "1–20 of 25" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert [int(n) for n in re.findall(r"Version (\d+)</strong>", second)] == [5, 4, 3, 2, 1]
    assert "Organisation default, installed" in second


def test_the_policies_in_force_are_paged(client, member, governance, monkeypatch):
    monkeypatch.setattr(governance_views, "POLICIES_PER_PAGE", 5)
    client.force_login(member)
    pages = [
        client.get(reverse("approvals:policies"), {"page": n}).content.decode() for n in (1, 2, 3)
    ]
    # The 12 organisation defaults (3 stages x 4 tiers), in order: staging low first.
    assert "1–5 of 12" in pages[0] and 'href="?page=3"' in pages[0]
    assert "Into Staging" in pages[0] and "Into Production" in pages[1]
    assert pages[1].count('class="policy"') == 5 and pages[2].count('class="policy"') == 2
    assert "Into Archived" in pages[2] and "Critical risk" in pages[2]


def _page_queries(client, url) -> int:
    assert client.get(url).status_code == 200  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_policy_pages_queries_do_not_grow_with_policies_or_versions(
    client, member, governance, team, make_model
):
    client.force_login(member)
    first = Policy.objects.order_by("pk").first()
    history = reverse("approvals:policy_history", args=[first.pk])
    few, few_history = (
        _page_queries(client, reverse("approvals:policies")),
        _page_queries(client, history),
    )
    for tier in ("low", "medium", "high", "critical"):
        _publish_versions(governance, 3, stage="staging", risk_tier=tier, team=team)
    for _ in range(5):
        _publish_versions(governance, 2, stage="production", risk_tier="", model=make_model())
    _publish_versions(governance, 30, stage=first.stage, risk_tier=first.risk_tier)
    # Session and user 2, permissions 2, the navigation 2; the page: a count, the page of
    # policies in force, their latest earlier versions (the history page: its policy).
    assert _page_queries(client, reverse("approvals:policies")) == few <= 9
    assert _page_queries(client, history) == few_history <= 9


def test_publishing_from_a_policy_starts_from_its_rules(client, governance):
    current = Policy.objects.get(
        scope="org", stage="production", risk_tier="high", superseded_at=None
    )
    client.force_login(governance)
    response = client.get(reverse("approvals:policy_publish"), {"from": current.pk})
    form = response.context["form"]
    assert form.initial["required_approvals"] == 2 and form.initial["risk_tier"] == "high"
    assert "New version of: Organisation, High risk, Production" in response.content.decode()


def test_governance_publishes_a_policy_with_thresholds_and_regressions(client, governance):
    client.force_login(governance)
    response = client.post(reverse("approvals:policy_publish"), publish_data(), follow=True)
    policy = Policy.objects.get(
        scope="org", stage="production", risk_tier="medium", superseded_at=None
    )
    assert policy.number == 2 and policy.published_by == governance
    assert policy.thresholds == [
        {"metric": "auc", "dataset": "holdout", "comparator": ">=", "value": 0.85}
    ]
    assert policy.max_regression == [{"metric": "auc", "dataset": "holdout", "max_drop": 0.01}]
    assert policy.required_sections == ["model_details", "intended_use"]
    assert policy.require_lineage and not policy.require_metadata
    html = response.content.decode()
    assert "auc on holdout &gt;= 0.85" in html
    assert AuditEvent.objects.filter(action=ApprovalAction.POLICY_PUBLISHED).count() == 1


def test_a_team_override_names_its_team(client, governance, team, model):
    client.force_login(governance)
    client.post(
        reverse("approvals:policy_publish"),
        publish_data(scope="team", team=str(team.pk), **{"thresholds-0-metric": "recall"}),
    )
    policy = Policy.objects.get(scope=PolicyScope.TEAM)
    assert policy.team == team and policy.risk_tier == "medium"
    html = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()
    assert "Team Fraud Detection overrides the default for medium-risk models." in html


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"reason": "ok"}, "reason", "Say why in at least"),
        ({"stage": "staging", "allow_skip_staging": "on"}, "allow_skip_staging",
         "Only a production policy can allow it."),
        ({"required_approvals": "11"}, "required_approvals", "A whole number from 0 to 10."),
        ({"thresholds-1-metric": "auc", "thresholds-1-dataset": "holdout",
          "thresholds-1-comparator": "<", "thresholds-1-value": "1"}, "thresholds",
         "Each metric and dataset appears once."),
        ({"thresholds-0-value": "high"}, "thresholds-0-value", "Enter a number."),
        ({"scope": "model", "model": "no-such-model"}, "model", "No model named"),
        ({"scope": "team"}, "team", "Choose the team"),
        ({"risk_tier": ""}, "risk_tier", "Choose the risk tier"),
    ],
)  # fmt: skip
def test_a_bad_policy_shows_the_error_by_its_field_and_publishes_nothing(
    client, governance, overrides, where, message
):
    client.force_login(governance)
    response = client.post(reverse("approvals:policy_publish"), publish_data(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    if where == "thresholds":
        assert 'id="thresholds-errors"' in html
    elif where.startswith("thresholds-"):
        assert response.context["thresholds"].forms[0].errors["value"]
    else:
        assert response.context["form"].errors[where]
    assert Policy.objects.filter(published_by=governance).count() == 0


def test_rollback_needs_a_reason_then_opens_the_follow_up_review(
    client, break_glass, model, two_productions
):
    v1, v2 = two_productions
    client.force_login(break_glass)
    url = reverse("approvals:rollback", args=[model.name])
    html = client.get(url).content.decode()
    assert "puts" in html and "v1" in html and "archives" in html and "Roll back to v1" in html
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    v2.refresh_from_db()
    assert v2.stage == Stage.PRODUCTION
    response = client.post(url, {"reason": ROLLBACK_REASON})
    review = TransitionRequest.objects.get(kind=RequestKind.ROLLBACK_REVIEW)
    assert response["Location"] == reverse("approvals:request", args=[review.pk])
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.stage, v2.stage) == (Stage.PRODUCTION, Stage.ARCHIVED)
    assert review.reason == ROLLBACK_REASON


def test_rollback_without_an_earlier_production_version_goes_back_to_the_model(
    client, break_glass, model
):
    client.force_login(break_glass)
    response = client.get(reverse("approvals:rollback", args=[model.name]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("registry:model_detail", args=[model.name])
    assert "has no earlier Production version to go back to." in response.content.decode()
