"""An auditor filters the audit log in a real browser and downloads the CSV export."""

import csv
import io
import os

import pytest

from audit.models import AuditEvent
from registry.audit_actions import Action

from .conftest import screenshot, signed_in

# Playwright's sync API runs an event loop in this thread (also set by conftest.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def auditor(django_user_model, password):
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name="Auditors")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="audit", codename="export_auditevent")
    )
    user = django_user_model.objects.create_user("erin", "erin@example.com", password)
    user.groups.add(group)
    return user


def test_an_auditor_filters_the_log_and_downloads_it_as_csv(page, catalog, auditor, password):
    signed_in(page, auditor, password)
    page.click("nav.mainnav >> text=Audit log")
    page.wait_for_url("**/audit/")
    assert (
        page.locator("#verification").inner_text().startswith("The chain has not been verified yet")
    )

    page.select_option("#id_action", Action.VERSION_REGISTERED.value)
    page.fill("#id_model", "fraud-scorer")
    page.click("#apply-filter")
    page.wait_for_url("**/audit/?*action=registry.version.registered*")
    rows = page.locator("#audit-events tbody tr")
    expected = list(
        AuditEvent.objects.filter(
            action=Action.VERSION_REGISTERED, model_name="fraud-scorer"
        ).order_by("sequence")
    )
    assert rows.count() == len(expected) == 2
    assert page.locator("#audit-events").get_by_role("link", name="v2").count() == 1
    screenshot(page, "audit-log-filtered")

    with page.expect_download() as download_info:
        page.click("#export-events-csv")
    download = download_info.value
    assert download.suggested_filename.startswith("audit-events-")
    assert download.suggested_filename.endswith(".csv")
    body = open(download.path(), encoding="utf-8-sig", newline="").read()
    exported = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [r["sequence"] for r in exported] == [str(e.sequence) for e in expected]
    assert [r["hash"] for r in exported] == [e.hash for e in expected]
    assert {r["action"] for r in exported} == {Action.VERSION_REGISTERED.value}

    # The export itself is now the newest event in the log.
    page.goto("/audit/")
    first_row = page.locator("#audit-events tbody tr").first
    assert "Audit log exported" in first_row.inner_text()
    assert auditor.username in first_row.inner_text()
    screenshot(page, "audit-log-after-export")


def test_an_auditor_starts_a_verification_and_sees_the_result(
    page, catalog, auditor, password, celery_worker_later
):
    signed_in(page, auditor, password)
    page.goto("/audit/")
    page.click("#verify-now")
    page.wait_for_url("**/audit/#verification")
    # No worker is running yet: the page says the verification is under way.
    assert "Verification running" in page.locator("#verification-running").inner_text()
    assert page.locator("#verify-now").is_disabled()
    screenshot(page, "audit-verification-running", full_page=False)

    with celery_worker_later():
        # The page's script polls the status and reloads itself when the result is in.
        page.wait_for_selector("#verification-result .chain-ok", timeout=30_000)
    result = page.locator("#verification-result").inner_text()
    assert "Chain intact" in result and "Last verified" in result and "started by erin" in result
    assert not page.locator("#verify-now").is_disabled()
    assert page.locator("#verification-running").count() == 0
    screenshot(page, "audit-verification-done", full_page=False)
