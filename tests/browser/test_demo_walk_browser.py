"""The README's two-minute walk on the demo data, as a new user does it after `rundemo`:
priya requests Production for card-fraud-scorer v5, grace and tomas approve it, v5 is in
Production and v4 archived, and the auditor finds the transition in the log."""

import csv
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from demo.content import WALK_APPROVERS, WALK_MODEL, WALK_REQUESTER, WALK_VERSION

from .conftest import TIMEOUT_MS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Two weeks of shadow scoring: fewer false declines at the same catch rate."


@pytest.fixture
def logins():
    out = StringIO()
    call_command("demo", stdout=out)
    rows = re.findall(r"^  (\S+)\s+(\S+)\s+\S.*$", out.getvalue(), flags=re.M)
    return {user: password for user, password in rows if user != "username"}


@pytest.fixture
def session(browser, live_server, logins):
    """A browser context per person, signed in with the password the demo printed."""
    contexts = []

    def open_as(username):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", logins[username])
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_the_readme_walk_takes_a_version_to_production_in_the_browser(session):
    version_url = f"/models/{WALK_MODEL}/v/{WALK_VERSION}/"
    previous_url = f"/models/{WALK_MODEL}/v/{WALK_VERSION - 1}/"
    first, second = WALK_APPROVERS

    priya = session(WALK_REQUESTER)
    priya.goto(version_url)
    expect(priya.locator(".page-head .badge")).to_have_text("Staging")
    priya.click("#request-stage-change")
    expect(priya.locator("#preview-production")).to_contain_text("all gates pass")
    priya.check("input[name=to_stage][value=production]")
    priya.fill("#id_reason", REASON)
    priya.click("#request-submit")
    expect(priya).to_have_url(re.compile(r"/approvals/requests/\d+/$"))
    request_url = priya.url
    expect(priya.locator("#gates tr.gate-fail")).to_have_count(0)

    grace = session(first)
    expect(grace.locator("#reviews-count")).to_have_text("1")
    grace.click("#nav-reviews")
    row = grace.locator("#waiting-table tbody tr", has_text=WALK_MODEL)
    expect(row).to_contain_text(WALK_REQUESTER)
    row.get_by_role("link").first.click()
    expect(grace).to_have_url(request_url)
    expect(grace.locator("#against-production")).to_contain_text(f"v{WALK_VERSION - 1}")
    expect(grace.locator("#who-may-approve")).to_contain_text(second)
    screenshot(grace, "demo-walk-review")
    grace.click("#approve-button")
    expect(grace.locator("#approvals-title")).to_have_text("Approvals: 1 of 2")

    tomas = session(second)
    tomas.goto(request_url)
    tomas.click("#approve-button")
    expect(tomas.locator("#request-state")).to_have_text("Applied")

    priya.goto(version_url)
    expect(priya.locator(".page-head .badge")).to_have_text("Production")
    priya.goto(previous_url)
    expect(priya.locator(".page-head .badge")).to_have_text("Archived")

    audrey = session("audrey")
    audrey.goto(f"/audit/?model={WALK_MODEL}&transitions_only=on")
    expect(audrey.locator("main")).to_contain_text(f"Transition applied by {second}")
    screenshot(audrey, "demo-walk-audit")
    # The audit page's one transitions export: a row per transition, with its approvers.
    audrey.click("#transitions-export-link")
    audrey.wait_for_url("**/approvals/transitions/")
    audrey.fill("#id_model", WALK_MODEL)
    with audrey.expect_download() as download:
        audrey.click("#export-transitions-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(StringIO(text, newline="")))
    applied = [row for row in rows if row["outcome"] == "applied" and row["reason"] == REASON]
    assert len(applied) == 1, rows[:1]
    assert applied[0]["approved_by"] == f"{first}; {second}"
    assert applied[0]["requester"] == WALK_REQUESTER
