"""The fixed SQL texts run as prepared statements on PostgreSQL (planned once per
connection), give the same pages as unprepared ones, survive rolled-back work, and are
not prepared when DATABASE_PREPARED_STATEMENTS is off (behind a pooler that cannot
keep them)."""

import pytest
from django.db import connection, transaction

from registry.fixed_sql import fetch_one

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL feature"),
]


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _page(client, url: str) -> str:
    response = client.get(url, secure=True)
    assert response.status_code == 200
    # The CSP nonce and the CSRF token differ per response; the rest must not.
    return response.content.decode()


def test_a_model_page_prepares_its_fixed_texts_once_and_shows_the_same(client, member, version):
    client.force_login(member)
    url = f"/models/{version.model.name}/"
    first = _page(client, url)
    prepared = _prepared()
    # The model's own read (its row, team, owner and the viewer's grants) and the
    # signed-in user's row are among them.
    assert any("LOWER(" in text and "registry_registeredmodel" in text for text in prepared)
    assert any("auth_user" in text for text in prepared)
    second = _page(client, url)
    assert _prepared() == prepared  # reused, not prepared again
    assert version.label in first and version.label in second
    assert first.count("<tr") == second.count("<tr")


def test_nothing_is_prepared_when_the_setting_is_off(client, member, version, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    client.force_login(member)
    page = _page(client, f"/models/{version.model.name}/")
    assert version.label in page
    # (The fixture's registration prepared its own writes before the switch.)
    assert not any("LOWER(" in text and "registry_registeredmodel" in text for text in _prepared())


def test_a_rolled_back_block_leaves_prepared_reads_working(member, version):
    sql = "SELECT username FROM auth_user WHERE id = %s"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert fetch_one(sql, [member.pk]) == (member.username,)
        raise RuntimeError("the block fails after preparing")
    # psycopg forgets what it prepared when a (savepoint) rollback passes, and prepares
    # again on the next use.
    assert fetch_one(sql, [member.pk]) == (member.username,)
    assert any(text == sql.replace("%s", "$1") for text in _prepared())


def test_a_registrations_writes_are_prepared_and_survive_a_refused_one(member, model):
    from registry.errors import Conflict
    from registry.models import ModelVersion
    from registry.services import version_register

    version_register(actor=member, model=model, label="1.0.0", framework="sklearn")
    version_register(actor=member, model=model, label="1.1.0", framework="sklearn")
    prepared = _prepared()
    assert any(t.startswith("WITH n AS (UPDATE") for t in prepared)  # the number
    assert any("INSERT INTO registry_modelversion" in t for t in prepared)  # all the rows
    with pytest.raises(Conflict):  # the label clash rolls the registration back
        version_register(actor=member, model=model, label="1.1.0", framework="sklearn")
    third = version_register(actor=member, model=model, label="1.2.0", framework="sklearn")
    assert third.number == 3
    stored = ModelVersion.objects.filter(model=model).order_by("number")
    assert [(v.number, v.label) for v in stored] == [(1, "1.0.0"), (2, "1.1.0"), (3, "1.2.0")]
