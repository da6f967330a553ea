"""An export is one long statement: it runs under the export statement timeout, not the
few seconds a page gets, and leaves the page timeout in place for the next request."""

import pytest
from django.db import connection
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _statement_timeout() -> int:
    """This connection's statement timeout in seconds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::int / 1000 FROM pg_settings WHERE name = %s", ["statement_timeout"]
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("kind", ["events-csv", "events-jsonl"])
def test_an_export_streams_under_the_export_timeout_then_restores_the_page_one(
    client, auditor, version, settings, kind
):
    settings.DATABASE_EXPORT_STATEMENT_TIMEOUT = 600
    client.force_login(auditor)
    page_timeout = _statement_timeout()
    response = client.post(reverse("audit:export", args=[kind]))
    assert response.status_code == 200
    chunks = iter(response.streaming_content)
    first = next(chunks)
    during = _statement_timeout()
    rest = b"".join(chunks)

    assert during == 600
    assert page_timeout == settings.DATABASE_STATEMENT_TIMEOUT
    assert _statement_timeout() == page_timeout
    assert b"fraud-scorer" in first + rest  # the export itself is whole
