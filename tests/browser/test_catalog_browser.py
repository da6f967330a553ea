"""Searching and filtering the catalog in a browser."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def facet_count(page, facet: str, label: str):
    return page.locator(f"#facet-{facet} label", has_text=label).locator(".count")


def test_searching_updates_the_results_the_facets_and_the_url(page, catalog, member, password):
    signed_in(page, member, password)
    expect(page.locator("#result-count")).to_contain_text("3 models")
    expect(facet_count(page, "team", "Fraud Detection")).to_have_text("2")
    expect(facet_count(page, "team", "Search Ranking")).to_have_text("1")
    edit = page.locator("#catalog-results .model-row td:last-child a").first
    box = edit.bounding_box()
    assert box["width"] > box["height"], box  # "Edit" on one line, not "E", "d", "it"
    screenshot(page, "catalog")

    page.fill("#search", "ranking")
    page.press("#search", "Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=ranking"))
    expect(page.locator("#result-count")).to_contain_text("1 model")
    rows = page.locator("#catalog-results .model-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-model", "search-ranker")
    expect(facet_count(page, "team", "Search Ranking")).to_have_text("1")
    expect(page.locator("#facet-team")).not_to_contain_text("Fraud Detection")
    screenshot(page, "catalog-search")


def test_a_facet_narrows_the_results_and_can_be_cleared(page, catalog, member, password):
    signed_in(page, member, password)
    # Checking a facet value submits the form straight away (no button press needed).
    page.locator("#facet-license label", has_text="MIT").locator("input").check()
    expect(page).to_have_url(re.compile(r"[?&]license=MIT"))
    expect(page.locator("#catalog-results .model-row")).to_have_count(1)
    expect(page.locator("#catalog-results")).to_contain_text("churn-predictor")
    expect(page.locator(".active-filters")).to_contain_text("MIT")
    screenshot(page, "catalog-facet")

    page.click("#clear-filters")
    expect(page).not_to_have_url(re.compile(r"license="))
    expect(page.locator("#catalog-results .model-row")).to_have_count(3)


def test_a_search_without_matches_says_so(page, catalog, member, password):
    signed_in(page, member, password)
    page.fill("#search", "hovercraft")
    page.press("#search", "Enter")
    expect(page.locator("#no-results")).to_contain_text("No models match")
    page.click("#show-all")
    expect(page.locator("#catalog-results .model-row")).to_have_count(3)


def test_estimated_counts_say_so_and_count_exactly_gives_exact_ones(
    page, many_models, member, password
):
    """Past the exact limit (set low here: 10), the page says "about" and "~"; the
    "Count exactly" link gives exact figures."""
    signed_in(page, member, password)
    expect(page.locator("#result-count")).to_contain_text("about")
    expect(page.locator("#estimates-note")).to_be_visible()
    expect(facet_count(page, "license", "MIT")).to_have_text(re.compile(r"^~\d"))
    screenshot(page, "catalog-estimates")

    page.click("#count-exactly")
    expect(page).to_have_url(re.compile(r"[?&]exact=1"))
    expect(page.locator("#result-count")).to_contain_text("24 models")
    expect(page.locator("#counted-exactly")).to_be_visible()
    expect(facet_count(page, "license", "MIT")).to_have_text("18")
    expect(facet_count(page, "license", "proprietary")).to_have_text("6")
    expect(page.locator("#estimates-note")).to_have_count(0)
