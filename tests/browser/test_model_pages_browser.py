"""A model, its versions, its card and the comparison of two versions, in a browser."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import ModelCard

from .conftest import screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_opening_a_model_and_then_a_version(page, catalog, member, password):
    signed_in(page, member, password)
    page.get_by_role("link", name="fraud-scorer", exact=True).click()
    expect(page).to_have_url(re.compile(r"/models/fraud-scorer/$"))
    expect(page.locator("#model-name")).to_have_text("fraud-scorer")
    expect(page.locator("#meta-team")).to_have_text("Fraud Detection")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator("#metrics svg").first).to_be_visible()
    screenshot(page, "model")

    page.locator("#version-1 a").click()
    expect(page).to_have_url(re.compile(r"/models/fraud-scorer/v/1/$"))
    expect(page.locator("#version-title")).to_contain_text("1.0.0")
    metrics = page.locator("#version-metrics")
    expect(metrics).to_contain_text("auc")
    expect(metrics).to_contain_text("0.81")
    expect(metrics).to_contain_text("lower is better")
    expect(page.locator("#params")).to_contain_text("max_depth")
    expect(page.locator("#section-intended_use")).to_contain_text("Review risky card payments")
    screenshot(page, "version")


def test_editing_a_card_updates_the_meter_and_renders_the_saved_text(
    page, catalog, member, password
):
    signed_in(page, member, password)
    page.goto("/models/fraud-scorer/v/2/")
    page.click("#edit-card")
    meter_text = page.locator("#completeness-text")
    expect(meter_text).to_contain_text("2 of 9 sections filled")

    page.fill("#id_ethical_considerations", "False declines hit **good customers**.")
    expect(meter_text).to_contain_text("3 of 9 sections filled (33%)")
    page.fill("#id_recommendations", "Review thresholds monthly.")
    expect(meter_text).to_contain_text("4 of 9 sections filled (44%)")
    page.locator("#id_ethical_considerations").scroll_into_view_if_needed()
    screenshot(page, "card-edit", full_page=False)

    page.click("#save-card")
    expect(page).to_have_url(re.compile(r"/models/fraud-scorer/v/2/$"))
    section = page.locator("#section-ethical_considerations")
    expect(section.locator("strong")).to_have_text("good customers")  # Markdown rendered
    expect(page.locator("#card-summary")).to_contain_text("4 of 9 sections filled (44%)")
    screenshot(page, "card-saved")
    card = ModelCard.objects.get(version=catalog["v2"])
    assert card.ethical_considerations == "False declines hit **good customers**."


def test_an_outsider_sees_no_edit_button(page, catalog, outsider, password):
    signed_in(page, outsider, password)
    page.goto("/models/fraud-scorer/v/2/")
    expect(page.locator("#version-title")).to_be_visible()
    expect(page.locator("#edit-card")).to_have_count(0)


def test_comparing_two_versions_shows_metric_deltas_and_the_card_diff(
    page, catalog, member, password
):
    signed_in(page, member, password)
    page.goto("/models/fraud-scorer/")
    page.click("#compare-versions")
    expect(page).to_have_url(re.compile(r"/compare/\?a=1&b=2"))

    auc = page.locator("#compare-metrics tr[data-metric=auc]")
    expect(auc.locator(".delta")).to_contain_text("+0.05")
    expect(auc.locator(".delta")).to_have_class(re.compile(r"delta-good"))
    latency = page.locator("#compare-metrics tr[data-metric=latency_p95_ms]")
    expect(latency.locator(".delta")).to_contain_text("-5")
    expect(latency.locator(".delta")).to_have_class(re.compile(r"delta-good"))

    expect(page.locator("#compare-params")).to_contain_text("max_depth")
    diff = page.locator("#diff-intended_use")
    expect(diff).to_contain_text("changed")
    expect(diff.locator(".diff-del")).to_contain_text("Review risky card payments")
    expect(diff.locator(".diff-add")).to_contain_text("Approve, review or decline")
    expect(page.locator("#diff-model_details")).to_contain_text("unchanged")
    screenshot(page, "compare")

    # Swapping the versions flips the verdict.
    page.select_option("#compare-a", "2")
    page.select_option("#compare-b", "1")
    page.click("#compare-button")
    expect(page.locator("#compare-metrics tr[data-metric=auc] .delta")).to_have_class(
        re.compile(r"delta-bad")
    )
