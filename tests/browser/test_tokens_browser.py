"""Revoking an API token in a browser takes a click and a confirmation, without JavaScript."""

import pytest
from playwright.sync_api import expect

from .conftest import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False])
def test_one_click_asks_and_only_confirming_revokes(
    browser, live_server, member, password, javascript
):
    from registry.models import APIToken
    from registry.services import token_create

    token, _ = token_create(actor=member, name="nightly evaluation")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    page = context.new_page()
    try:
        signed_in(page, member, password)
        page.goto("/accounts/tokens/")
        page.get_by_role("link", name="Revoke nightly evaluation").click()

        expect(page.locator("h1")).to_have_text("Revoke “nightly evaluation”?")
        assert APIToken.objects.get(pk=token.pk).revoked_at is None

        page.click("#cancel-revoke")
        expect(page.locator("h1")).to_have_text("API tokens")
        assert APIToken.objects.get(pk=token.pk).revoked_at is None

        page.get_by_role("link", name="Revoke nightly evaluation").click()
        page.click("#confirm-revoke")
        expect(page.locator(".message.success")).to_contain_text("was revoked")
        assert APIToken.objects.get(pk=token.pk).revoked_at is not None
    finally:
        context.close()
