"""A deployment system reports over the real API; the model page shows it and its drift."""

import pytest
from playwright.sync_api import expect

from registry.services import deployment_target_create, token_create

from .conftest import screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_report_from_a_deployment_system_appears_on_the_model_page(
    page, catalog, admin_user, member, outsider, password
):
    deployment_target_create(
        actor=admin_user,
        name="argo-prod-eu",
        environment="production",
        url="https://93.184.215.14/hooks",
        events=["test"],
    )
    _, secret = token_create(actor=member, name="argo")
    response = page.request.post(
        "/api/targets/argo-prod-eu/reports/",
        headers={"Authorization": f"Bearer {secret}"},
        data={
            "model": "fraud-scorer",
            "version": 1,
            "state": "serving",
            "endpoint_url": "https://serve.example.com/fraud-scorer",
        },
    )
    assert response.status == 201, response.text()

    signed_in(page, outsider, password)
    page.goto("/models/fraud-scorer/")
    drift = page.locator("#serving-drift")
    expect(drift).to_be_visible()
    expect(drift).to_contain_text("argo-prod-eu serves v1, but no version is in Production.")
    row = page.locator("#serving-argo-prod-eu")
    expect(row).to_contain_text("serving")
    expect(row.get_by_role("link", name="https://serve.example.com/fraud-scorer")).to_be_visible()
    screenshot(page, "model-serving-drift", full_page=False)
