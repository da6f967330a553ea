"""Governance staff name two production approvers of a model in a real browser; the model
page then shows them and the policy that applies; later a break-glass user rolls a bad
release back and the model page flags the open follow-up review."""

import os

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from registry.choices import CARD_SECTION_NAMES

from .conftest import TIMEOUT_MS, screenshot, signed_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Beats the current model on the Q3 hold-out; fraud ops signed off."


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def ready_version(model, member, make_version):
    from registry.services import card_update

    version = make_version(
        model,
        run_system="mlflow",
        run_id="run-42",
        data_versions=[
            {"dataset": "payments", "version_or_uri": "v2024.3", "classification": "confidential"}
        ],
    )
    card_update(
        actor=member,
        card=version.card,
        sections={name: f"{name} for v{version.number}" for name in CARD_SECTION_NAMES},
    )
    version.refresh_from_db()
    return version


def promote(version, stage, member, reviewers):
    from approvals.services import review_approve, transition_request

    request = transition_request(actor=member, version=version, to_stage=stage, reason=REASON)
    for reviewer in reviewers:
        request.refresh_from_db()
        if request.is_pending:
            review_approve(actor=reviewer, request=request)


def test_governance_names_approvers_and_break_glass_rolls_back(
    page, browser, live_server, model, member, admin_user, django_user_model, password,
    make_version,
):  # fmt: skip
    from approvals.services import approver_grant

    gina = django_user_model.objects.create_user("gina", "gina@example.com", password)
    gina.groups.add(Group.objects.get(name="Governance"))
    carol = django_user_model.objects.create_user("carol", "carol@example.com", password)
    dave = django_user_model.objects.create_user("dave", "dave@example.com", password)
    bree = django_user_model.objects.create_user("bree", "bree@example.com", password)
    bree.groups.add(Group.objects.get(name="Break-glass"))

    # Governance names carol and dave for Production in the browser.
    signed_in(page, gina, password)
    page.goto(f"/models/{model.name}/")
    assert "nobody is named yet" in page.locator("#approvals-production").inner_text()
    page.click("#approvers-settings")
    page.wait_for_url(f"**/approvals/models/{model.name}/approvers/")
    for name in ("carol", "dave"):
        page.fill("#id_user", name)
        page.select_option("#id_stage", "production")
        page.select_option("#id_on", "model")
        page.click("#add-approver-button")
        assert (
            f"{name} may now approve moves into Production"
            in page.locator(".messages").inner_text()
        )
    grants = page.locator("#grants tbody").inner_text()
    assert "carol" in grants and "dave" in grants
    screenshot(page, "governance-approvers")

    page.click(f"nav.breadcrumbs >> text={model.name}")
    production = page.locator("#approvals-production")
    text = production.inner_text()
    assert "Who may approve: carol, dave" in text
    assert "Organisation default" in text and "organisation default for medium-risk" in text
    assert "2 distinct named approvers" in text
    assert page.locator("#risk-tier").inner_text() == "Medium risk"
    screenshot(page, "model-page-approvals")

    # Two releases reach production through the workflow; v2 replaces v1.
    for stage in ("staging", "archived"):
        for user in (carol, dave):
            approver_grant(actor=admin_user, stage=stage, model=model, user=user)
    v1, v2 = ready_version(model, member, make_version), ready_version(model, member, make_version)
    for version in (v1, v2):
        promote(version, "staging", member, [carol, dave])
        promote(version, "production", member, [carol, dave])

    # Bree breaks the glass: v1 goes back, with a reason, and the model page flags it.
    bree_page = signed_in(new_page(browser, live_server), bree, password)
    bree_page.goto(f"/models/{model.name}/")
    assert bree_page.locator("#rollback-flag").count() == 0
    bree_page.click("#rollback-button")
    bree_page.wait_for_url(f"**/approvals/models/{model.name}/rollback/")
    bree_page.fill("#rollback-reason", "v2 doubles the false positives at checkout.")
    bree_page.click("#confirm-rollback")
    bree_page.wait_for_url("**/approvals/requests/*/")
    assert "back in Production" in bree_page.locator(".messages").inner_text()
    review_url = bree_page.url

    page.goto(f"/models/{model.name}/")
    flag = page.locator("#rollback-flag")
    assert "Emergency rollback under review." in flag.inner_text()
    assert "bree put v1 back in Production" in flag.inner_text()
    screenshot(page, "model-page-rollback-flag", full_page=False)
    page.click("#rollback-review-link")
    page.wait_for_url(review_url)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.stage, v2.stage) == ("production", "archived")


def test_governance_pages_fit_a_phone_and_run_under_the_csp(
    browser, live_server, model, member, admin_user, django_user_model, password, make_version
):
    """Each governance page, as the person who uses it, on a 390-pixel phone: nothing is
    refused by the Content-Security-Policy and nothing sticks out of the window."""
    from approvals.models import Policy
    from approvals.services import approver_grant

    from .test_csp_browser import Watcher
    from .test_layout_browser import PAGE_FITS, WIDTHS

    gina = django_user_model.objects.create_user("gina", "gina@example.com", password)
    gina.groups.add(Group.objects.get(name="Governance"))
    bree = django_user_model.objects.create_user("bree", "bree@example.com", password)
    bree.groups.add(Group.objects.get(name="Break-glass"))
    reviewers = [
        django_user_model.objects.create_user(name, f"{name}@example.com", password)
        for name in ("carol", "dave")
    ]
    for stage in ("staging", "production"):
        for user in reviewers:
            approver_grant(actor=admin_user, stage=stage, model=model, user=user)
    for version in (ready_version(model, member, make_version) for _ in range(2)):
        promote(version, "staging", member, reviewers)
        promote(version, "production", member, reviewers)
    high = Policy.objects.get(scope="org", stage="production", risk_tier="high", number=1)

    width = WIDTHS["phone-390"]["viewport"]["width"]
    visits = {
        gina: [
            f"/models/{model.name}/",
            f"/approvals/models/{model.name}/approvers/",
            "/approvals/policies/",
            f"/approvals/policies/{high.pk}/",
            f"/approvals/policies/publish/?from={high.pk}",
        ],
        bree: [f"/models/{model.name}/", f"/approvals/models/{model.name}/rollback/"],
    }
    for user, urls in visits.items():
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", **WIDTHS["phone-390"]
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            watcher = Watcher(page)
            signed_in(page, user, password)
            for url in urls:
                watcher.visit(url)
                fit = page.evaluate(PAGE_FITS, width)
                assert fit["scrollWidth"] <= fit["innerWidth"] == width, (url, fit)
            screenshot(page, f"governance-phone-{user.get_username()}")
        finally:
            context.close()


def test_governance_reads_every_version_of_a_policy_a_page_at_a_time(
    page, django_user_model, password
):
    """The policies page shows the three latest earlier versions of a policy under it;
    the link below them leads to every version with its rules, twenty a page."""
    from approvals.services import policy_publish

    gina = django_user_model.objects.create_user("gina", "gina@example.com", password)
    gina.groups.add(Group.objects.get(name="Governance"))
    for n in range(24):  # versions 2..25 of the critical-risk production default
        policy_publish(
            actor=gina, stage="production", risk_tier="critical",
            rules={"required_approvals": 3 + n % 2}, reason=f"Revision {n + 2} after the audit.",
        )  # fmt: skip

    signed_in(page, gina, password)
    page.goto("/approvals/policies/")
    critical = page.locator("#stage-production article.policy").filter(has_text="Critical risk")
    history = critical.locator("details.history")
    history.locator("summary").click()
    expect(history.locator("li")).to_have_count(3)
    expect(history.locator("li").first).to_contain_text("Version 24: 3 approvals")
    screenshot(page, "policies-earlier-versions")
    history.get_by_role("link", name="All 25 versions, with their rules").click()
    page.wait_for_url("**/approvals/policies/*/")
    versions = page.locator("article.policy .policy-version")
    expect(versions).to_have_count(20)
    expect(versions.first).to_have_text("Version 25")
    expect(page.locator("nav.pagination")).to_contain_text("1–20 of 25")
    page.get_by_role("link", name="Next ›").click()
    expect(versions).to_have_text(["Version 5", "Version 4", "Version 3", "Version 2", "Version 1"])
    expect(page.locator("#policy-versions")).to_contain_text("Organisation default, installed")
    screenshot(page, "policy-history-page-2")
