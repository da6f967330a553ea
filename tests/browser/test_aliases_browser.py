# ruff: noqa: F811 (the cast and factories of tests/approvals are imported as fixtures)
"""Aliases in a browser: a data scientist sets `challenger` on the model page and sees it
listed; setting `champion` (protected) files a request with her reason, which the named
approver finds in his inbox and approves, and the model page then shows it."""

import pytest
from playwright.sync_api import expect

from tests.approvals.conftest import (  # noqa: F401
    REASON,
    approver,
    make_ready_version,
    second_approver,
)

from .conftest import TIMEOUT_MS, screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPROVER_PASSWORD = "pw"  # tests/approvals/conftest.py gives carol and dave this one


@pytest.fixture
def session(browser, live_server):
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


def test_setting_aliases_on_the_model_page(
    session, member, password, approver, second_approver, model, make_ready_version
):
    make_ready_version(model), make_ready_version(model)
    alice = session(member, password)

    alice.goto("/models/fraud-scorer/")
    expect(alice.locator("#no-aliases")).to_be_visible()
    alice.fill("#alias-name", "challenger")
    alice.fill("#alias-version", "2")
    alice.click("#alias-submit")

    expect(alice.locator(".messages, [role=status]").first).to_contain_text(
        "challenger now points at v2."
    )
    row = alice.locator("#alias-challenger")
    expect(row).to_contain_text("challenger")
    expect(row.get_by_role("link", name="v2")).to_have_attribute(
        "href", "/models/fraud-scorer/v/2/"
    )
    expect(alice.locator("#version-2")).to_contain_text("@challenger")

    # champion is protected: the form files a request, and says where it went.
    alice.fill("#alias-name", "champion")
    alice.fill("#alias-version", "1")
    alice.fill("#alias-reason", REASON)
    alice.click("#alias-submit")
    expect(alice.locator("#request-title")).to_have_text("fraud-scorer@champion to v1")
    expect(alice.locator("#request-alias")).to_contain_text("champion")
    request_url = alice.url
    screenshot(alice, "alias-request")

    carol = session(approver, APPROVER_PASSWORD)
    carol.goto("/approvals/inbox/")
    waiting = carol.locator("#waiting-table tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting.first).to_contain_text("Alias champion to this version")
    waiting.first.get_by_role("link").first.click()
    assert carol.url == request_url
    carol.click("#approve-button")
    dave = session(second_approver, APPROVER_PASSWORD)
    dave.goto(request_url)
    if dave.locator("#approve-button").count():
        dave.click("#approve-button")

    alice.goto("/models/fraud-scorer/")
    champion = alice.locator("#alias-champion")
    expect(champion).to_contain_text("protected")
    expect(champion.get_by_role("link", name="v1")).to_be_visible()
    expect(alice.locator("#delete-alias-champion")).to_have_count(0)
    alice.locator("#aliases").scroll_into_view_if_needed()
    screenshot(alice, "model-aliases", full_page=False)
