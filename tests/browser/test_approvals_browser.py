# ruff: noqa: F811 (the cast and factories of tests/approvals are imported as fixtures)
"""The approval workflow in a browser: a data scientist requests Production with a reason,
two named approvers review the gates and the comparison and approve, and the version
shows as Production with the old one archived; a rejection's comment reaches the
requester."""

import re

import pytest
from playwright.sync_api import expect

from tests.approvals.conftest import (  # noqa: F401
    REASON,
    approver,
    make_ready_version,
    promote,
    second_approver,
)

from .conftest import TIMEOUT_MS, screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPROVER_PASSWORD = "pw"  # tests/approvals/conftest.py gives carol and dave this one


@pytest.fixture
def fraud(model, make_ready_version, promote):
    """fraud-scorer v1 in Production, v2 (better AUC) in Staging: both through the workflow."""
    v1 = make_ready_version(model, metrics=[{"name": "auc", "value": 0.81, "dataset": "holdout"}])
    promote(v1, "staging")
    promote(v1, "production")
    v2 = make_ready_version(model, metrics=[{"name": "auc", "value": 0.86, "dataset": "holdout"}])
    promote(v2, "staging")
    return {"model": model, "v1": v1, "v2": v2}


@pytest.fixture
def session(browser, live_server):
    """A fresh browser context per person, so each signs in on their own."""
    contexts = []

    def open_as(user, password):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return signed_in(context.new_page(), user, password)

    yield open_as
    for context in contexts:
        context.close()


def _request_production(page, reason: str) -> str:
    page.goto("/models/fraud-scorer/v/2/")
    page.click("#request-stage-change")
    expect(page.locator("#preview-production")).to_contain_text("all gates pass")
    page.check("input[name=to_stage][value=production]")
    page.fill("#id_reason", reason)
    page.click("#request-submit")
    expect(page).to_have_url(re.compile(r"/approvals/requests/\d+/$"))
    return page.url


def test_a_version_reaches_production_through_two_approvers(
    session,
    fraud,
    member,
    password,
    approver,
    second_approver,
):
    alice = session(member, password)
    # A reason that is too short is refused on its field; nothing is filed.
    alice.goto("/models/fraud-scorer/v/2/")
    alice.click("#request-stage-change")
    alice.check("input[name=to_stage][value=production]")
    alice.fill("#id_reason", "better")
    alice.click("#request-submit")
    expect(alice.locator("#field-reason")).to_contain_text("at least 20 characters")
    request_url = _request_production(alice, REASON)
    expect(alice.locator("#request-state")).to_have_text("Waiting for approvals")
    expect(alice.locator("#reason")).to_have_text(REASON)
    expect(alice.locator("#withdraw-button")).to_be_visible()
    expect(alice.locator("#approve-button")).to_have_count(0)

    carol = session(approver, APPROVER_PASSWORD)
    expect(carol.locator("#reviews-count")).to_have_text("1")
    carol.click("#nav-reviews")
    row = carol.locator("#waiting-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("fraud-scorer")
    expect(row).to_contain_text("v2")
    expect(row).to_contain_text("alice")
    expect(row).to_contain_text("pass")
    screenshot(carol, "approvals-inbox")
    row.get_by_role("link").click()
    expect(carol).to_have_url(request_url)
    gates = carol.locator("#gates tbody tr")
    expect(gates.first).to_contain_text("Allowed move")
    expect(carol.locator("#gates tr.gate-fail")).to_have_count(0)
    expect(carol.locator("#gates")).to_contain_text("Lineage")
    expect(carol.locator("#against-production")).to_contain_text("v1 · ")
    expect(carol.locator("#compare-metrics tr[data-metric=auc]")).to_contain_text("+0.05")
    expect(carol.locator("#compare-card")).to_contain_text("intended_use for v2")
    expect(carol.locator("#model-card")).to_contain_text("Written for v2")
    expect(carol.locator("#who-may-approve")).to_contain_text("dave (may approve)")
    screenshot(carol, "approvals-review")
    carol.fill("#approve-comment", "Hold-out gain is real; latency unchanged.")
    carol.click("#approve-button")
    expect(carol.locator(".message.success")).to_contain_text("Your approval is recorded.")
    expect(carol.locator("#approvals-title")).to_have_text("Approvals: 1 of 2")
    expect(carol.locator("#reviews-count")).to_have_count(0)

    dave = session(second_approver, APPROVER_PASSWORD)
    dave.goto(request_url)
    expect(dave.locator("#approval-list")).to_contain_text("carol approved")
    dave.click("#approve-button")
    expect(dave.locator(".message.success")).to_contain_text("v2 is now in Production.")
    expect(dave.locator("#request-state")).to_have_text("Applied")

    alice.goto("/models/fraud-scorer/v/2/")
    expect(alice.locator(".page-head .badge")).to_have_text("Production")
    history = alice.locator("#stage-history")
    expect(history).to_contain_text("carol approved: “Hold-out gain is real; latency unchanged.”")
    expect(history).to_contain_text("dave approved")
    screenshot(alice, "approvals-version-history")
    alice.goto("/models/fraud-scorer/v/1/")
    expect(alice.locator(".page-head .badge")).to_have_text("Archived")


def test_a_rejection_with_a_comment_reaches_the_requester(
    session,
    fraud,
    member,
    password,
    approver,
):
    alice = session(member, password)
    request_url = _request_production(alice, "Ship v2 to everyone before the holiday peak.")

    carol = session(approver, APPROVER_PASSWORD)
    carol.goto(request_url)
    carol.click("#reject-button")  # the comment is required: the browser keeps the form
    expect(carol).to_have_url(request_url)
    expect(carol.locator("#request-state")).to_have_text("Waiting for approvals")
    carol.fill("#reject-comment", "No fairness review of v2 yet; please attach it.")
    carol.click("#reject-button")
    expect(carol.locator("#request-state")).to_have_text("Rejected")

    alice.goto("/approvals/inbox/")
    mine = alice.locator("#mine-table tbody tr").first
    expect(mine).to_contain_text("Rejected")
    expect(mine).to_contain_text("No fairness review of v2 yet")
    mine.get_by_role("link").click()
    expect(alice.locator("#close-comment")).to_have_text(
        "No fairness review of v2 yet; please attach it."
    )
    screenshot(alice, "approvals-rejected")
    alice.goto("/models/fraud-scorer/v/2/")
    expect(alice.locator(".page-head .badge")).to_have_text("Staging")


def test_a_card_edit_sends_the_request_back_to_the_approver_who_approved_it(
    session,
    fraud,
    member,
    password,
    approver,
):
    alice = session(member, password)
    request_url = _request_production(alice, REASON)
    carol = session(approver, APPROVER_PASSWORD)
    carol.goto(request_url)
    carol.click("#approve-button")
    expect(carol.locator(".message.success")).to_contain_text("Your approval is recorded.")
    carol.goto("/approvals/inbox/")
    expect(carol.locator("#inbox-empty")).to_be_visible()

    alice.goto("/models/fraud-scorer/v/2/card/")
    alice.fill("#id_intended_use", "Scores card payments; now also wallet top-ups.")
    alice.click("#save-card")
    expect(alice).to_have_url(re.compile(r"/models/fraud-scorer/v/2/$"))

    carol.goto("/approvals/inbox/")
    expect(carol.locator("#reviews-count")).to_have_text("1")
    row = carol.locator("#waiting-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".approval-stale")).to_have_text("Your approval is stale")
    screenshot(carol, "approvals-inbox-stale")
    row.get_by_role("link").click()
    expect(carol.locator("#approval-list")).to_contain_text("the model card changed")
    carol.click("#approve-button")
    expect(carol.locator(".message.success")).to_contain_text("Your approval is recorded.")
    carol.goto("/approvals/inbox/")
    expect(carol.locator("#inbox-empty")).to_be_visible()


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
}
PAGE_WIDTH = "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"


def test_the_approval_pages_fit_a_phone_and_run_under_the_policy(
    browser, live_server, fraud, member, password, approver
):
    from approvals.services import transition_request

    from .test_csp_browser import Watcher

    request = transition_request(
        actor=member, version=fraud["v2"], to_stage="production", reason=REASON
    )
    pages = {
        approver: (APPROVER_PASSWORD, ["/approvals/inbox/", f"/approvals/requests/{request.pk}/"]),
        member: (password, ["/approvals/new/fraud-scorer/1/", "/models/fraud-scorer/v/2/"]),
    }
    for user, (secret, urls) in pages.items():
        context = browser.new_context(base_url=live_server.url, locale="en-US", **PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            watcher = Watcher(page)
            signed_in(page, user, secret)
            for url in urls:
                watcher.visit(url)
                fit = page.evaluate(PAGE_WIDTH)
                assert fit["scroll"] <= fit["inner"] == 390, (url, fit)
            screenshot(page, f"approvals-phone-{user.get_username()}")
        finally:
            context.close()
