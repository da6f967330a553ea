"""Signing in through the real login form."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_wrong_password_shows_an_error_and_the_right_one_signs_in(page, member, password):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "alice")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.locator("#id_username")).to_have_value("alice")
    screenshot(page, "sign-in-wrong-password")

    signed_in(page, member, password)
    expect(page.locator(".whoami")).to_have_text("alice")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Catalog")


def test_signing_out_returns_to_the_login_page(page, member, password):
    signed_in(page, member, password)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))
