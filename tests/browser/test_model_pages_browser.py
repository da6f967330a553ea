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
    # v2 wrote its intended use; its model details are still v1's, not yet reviewed.
    expect(page.locator("#section-model_details")).to_contain_text(
        "Inherited from v1, not yet reviewed for this version"
    )
    expect(page.locator("#section-intended_use")).to_contain_text("Written for v2")
    page.click("#edit-card")
    meter_text = page.locator("#completeness-text")
    expect(meter_text).to_contain_text("1 of 9 sections filled")
    expect(page.locator("#inherited-note")).to_contain_text("1 section inherited")

    page.check("#id_confirm_model_details")
    expect(meter_text).to_contain_text("2 of 9 sections filled (22%)")
    expect(page.locator("#inherited-note")).to_be_hidden()
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
    expect(section).to_contain_text("Last edited for v2 by alice")
    expect(page.locator("#section-model_details")).to_contain_text("Reviewed for v2 by alice")
    expect(page.locator("#card-summary")).to_contain_text("4 of 9 sections filled (44%)")
    screenshot(page, "card-saved")
    card = ModelCard.objects.get(version=catalog["v2"])
    assert card.ethical_considerations == "False declines hit **good customers**."


@pytest.fixture
def colleague(django_user_model, admin_user, team, password):
    from registry.services import team_member_add

    user = django_user_model.objects.create_user("carol", "carol@example.com", password)
    team_member_add(actor=admin_user, team=team, user=user)
    return user


@pytest.fixture
def second_page(browser, live_server):
    """Another browser context: a second person, with their own cookies."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_two_people_editing_one_card_the_second_save_shows_both_texts_and_keeps_its_own(
    page, second_page, catalog, member, colleague, password
):
    alice, carol = page, second_page
    signed_in(alice, member, password)
    signed_in(carol, colleague, password)
    alice.goto("/models/fraud-scorer/v/2/card/")
    carol.goto("/models/fraud-scorer/v/2/card/")

    carol.fill("#id_intended_use", "Carol: send payments over 500 EUR to manual review.")
    carol.fill("#id_training_data", "Carol: 18 months of payments.")
    carol.click("#save-card")
    expect(carol).to_have_url(re.compile(r"/models/fraud-scorer/v/2/$"))

    alice.fill("#id_intended_use", "Alice: decline payments flagged twice in a day.")
    alice.fill("#id_recommendations", "Alice: re-tune thresholds monthly.")
    alice.click("#save-card")

    expect(alice.locator("#conflict-summary")).to_contain_text(
        "someone else saved this card while you were editing it"
    )
    clash = alice.locator("#conflict-intended_use")
    expect(clash.locator(".theirs")).to_contain_text("Carol: send payments over 500 EUR")
    expect(clash.locator(".theirs")).to_contain_text("by carol")
    expect(clash.locator(".yours")).to_contain_text("Alice: decline payments flagged twice")
    expect(alice.locator("#id_intended_use")).to_have_value(
        "Alice: decline payments flagged twice in a day."
    )
    expect(alice.locator("#id_recommendations")).to_have_value("Alice: re-tune thresholds monthly.")
    # Carol's section that Alice did not touch is in the form as Carol saved it.
    expect(alice.locator("#id_training_data")).to_have_value("Carol: 18 months of payments.")
    clash.scroll_into_view_if_needed()
    screenshot(alice, "card-conflict", full_page=False)
    card = ModelCard.objects.get(version=catalog["v2"])
    assert card.intended_use == "Carol: send payments over 500 EUR to manual review."

    alice.click("#save-card")  # knowingly, on top of Carol's revision
    expect(alice).to_have_url(re.compile(r"/models/fraud-scorer/v/2/$"))
    card.refresh_from_db()
    assert card.intended_use == "Alice: decline payments flagged twice in a day."
    assert card.training_data == "Carol: 18 months of payments."
    assert card.recommendations == "Alice: re-tune thresholds monthly."


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
