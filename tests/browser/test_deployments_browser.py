# ruff: noqa: F811 (the receiver and its settings are imported as fixtures)
"""Deployment targets in a browser: an admin defines a target pointing at a real
receiver on 127.0.0.1, copies its secret from the one page that shows it, sends a test
event and sees it logged as delivered; the pages run under the CSP and fit a phone.

With a broker configured (CI), a real Celery worker sends the webhook; without one,
tasks run in-process, as under the run command."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from registry.models import Delivery, DeploymentTarget
from tests.registry.conftest import receiver, webhook_settings  # noqa: F401

from .conftest import TIMEOUT_MS, screenshot, signed_in
from .test_csp_browser import Watcher
from .test_layout_browser import PAGE_FITS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sender(request):
    """Whatever sends the queued webhooks: a real worker when there is a broker."""
    if settings.CELERY_BROKER_URL:
        request.getfixturevalue("celery_worker")


def _create_target(page, url: str) -> str:
    page.goto(reverse("deployments:list"))
    page.click("#new-target")
    page.fill("#id_name", "argo-prod-eu")
    page.select_option("#id_environment", "production")
    page.fill("#id_url", url)
    page.get_by_label("Version promoted to Production").check()
    page.get_by_label("Test event").check()
    page.get_by_label("All models").check()
    page.click("#save-target")
    expect(page.locator("#copy-it-now")).to_contain_text("Copy it now")
    return page.locator("#new-secret").input_value()


def test_an_admin_creates_a_target_sends_a_test_event_and_sees_it_delivered(
    page, admin_user, password, receiver, webhook_settings, sender
):
    signed_in(page, admin_user, password)
    page.click("#nav-deployments")
    expect(page.locator("h1")).to_have_text("Deployment targets")

    # A mistake is shown on its field and nothing is saved.
    page.click("#new-target")
    page.fill("#id_name", "argo-prod-eu")
    page.fill("#id_url", "ftp://deploy.example.com/hook")
    page.click("#save-target")
    expect(page.locator("#form-error-summary")).to_be_visible()
    expect(page.locator("#field-events [role=alert]")).to_contain_text("required")
    assert DeploymentTarget.objects.count() == 0

    secret = _create_target(page, receiver.url)
    assert secret.startswith("whsec_")
    screenshot(page, "deployments-secret")
    page.click("#to-target")
    expect(page.locator("#target-name")).to_have_text("argo-prod-eu")
    assert secret not in page.content()

    page.click("#send-test")
    expect(page).to_have_url(re.compile(r"/deployments/deliveries/\d+/$"))
    expect(page.locator(".message.success")).to_contain_text("Test event queued")
    # The worker sends it; the page shows the attempt once it is logged.
    [got] = receiver.wait_for(1)
    assert got.verify(secret)["type"] == "test"
    delivery = Delivery.objects.get()
    for _ in range(50):
        delivery.refresh_from_db()
        if delivery.state == "delivered":
            break
        page.wait_for_timeout(100)
    page.reload()
    expect(page.locator("#delivery-state")).to_have_text("Delivered")
    expect(page.locator("#attempt-1")).to_contain_text("200")
    assert got.webhook_id == page.locator("#webhook-id").inner_text()
    screenshot(page, "deployments-delivery")

    page.get_by_role("link", name="argo-prod-eu").first.click()
    expect(page.locator(f"#delivery-{delivery.pk}")).to_contain_text("Delivered")
    screenshot(page, "deployments-target")


def test_the_deployment_pages_run_under_the_policy_and_fit_a_phone(
    browser, live_server, admin_user, password, receiver, webhook_settings, sender
):
    from registry.services import deployment_target_create

    target, _ = deployment_target_create(
        actor=admin_user,
        name="argo-prod-eu-with-a-rather-long-name-for-a-phone-screen",
        environment="production",
        url=receiver.url + "/" + "a-long-path-segment" * 8,
        events=["test", "version.promoted.production"],
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        watcher = Watcher(page)
        signed_in(page, admin_user, password)
        page.goto(reverse("deployments:target", args=[target.pk]))
        page.click("#send-test")
        expect(page).to_have_url(re.compile(r"/deployments/deliveries/\d+/$"))
        receiver.wait_for(1)
        delivery = Delivery.objects.get()
        urls = [
            reverse("deployments:list"),
            reverse("deployments:create"),
            reverse("deployments:target", args=[target.pk]),
            reverse("deployments:target", args=[target.pk]) + "?state=delivered&event=test",
            reverse("deployments:edit", args=[target.pk]),
            reverse("deployments:rotate", args=[target.pk]),
            reverse("deployments:delivery", args=[delivery.pk]),
        ]
        for url in urls:
            watcher.visit(url)
            fit = page.evaluate(PAGE_FITS, 390)
            assert fit["scrollWidth"] <= fit["innerWidth"] == 390, (url, fit)
        page.goto(reverse("deployments:rotate", args=[target.pk]))
        page.click("#confirm-rotate")
        expect(page.locator("#rotation-note")).to_contain_text("two signatures")
        watcher.check("secret rotated")
        screenshot(page, "deployments-rotated-phone")
    finally:
        context.close()
