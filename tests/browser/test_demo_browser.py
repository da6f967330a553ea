"""The demo organisation, as a person trying Modelgate sees it after `rundemo`."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_logins():
    out = StringIO()
    call_command("demo", stdout=out)
    rows = re.findall(r"^  (\S+)\s+(\S+)\s+\S.*$", out.getvalue(), flags=re.M)
    return {user: password for user, password in rows if user != "username"}


def sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_demo_catalog_lineage_and_cards_are_there_to_explore(page, demo_logins):
    sign_in(page, "priya", demo_logins["priya"])
    expect(page.locator("#result-count")).to_contain_text("15 models")
    expect(page.locator("#facet-team")).to_contain_text("Customer Care NLP")
    screenshot(page, "demo-catalog")

    page.get_by_role("link", name="card-fraud-scorer", exact=True).click()
    expect(page.locator("#versions tbody tr")).to_have_count(5)
    expect(page.locator("#lineage-children")).to_contain_text("chargeback-predictor")
    expect(page.locator("#metrics svg").first).to_be_visible()
    screenshot(page, "demo-model")

    page.goto("/models/support-intent-classifier/v/1/")
    expect(page.locator("#parents")).to_contain_text("customer-care-base-lm v1")
    expect(page.locator("#card-summary")).to_contain_text("9 of 9 sections filled (100%)")
    expect(page.locator("#section-metrics_and_results table")).to_be_visible()
    screenshot(page, "demo-version")


def test_a_data_scientist_edits_only_their_teams_models(page, demo_logins):
    sign_in(page, "priya", demo_logins["priya"])
    page.goto("/models/card-fraud-scorer/")
    expect(page.locator("#edit-model")).to_be_visible()
    page.goto("/models/product-search-ranker/")
    expect(page.locator("#model-name")).to_have_text("product-search-ranker")
    expect(page.locator("#edit-model")).to_have_count(0)


def test_the_catalog_fits_a_1280px_window_without_sideways_scrolling(page, demo_logins):
    sign_in(page, "priya", demo_logins["priya"])
    expect(page.locator("#result-count")).to_contain_text("15 models")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
