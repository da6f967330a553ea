"""A busy model's pages (issue 11): 10,000 versions, a Production version, an open
emergency-rollback review, requests with reviews, named approvers, an alias and a
deployment target's report. The model page takes at most 12 queries and the version
page 3 (the session, the signed-in user, the version with everything the page shows),
and both show what the rows say."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import ModelVersion, RegisteredModel
from registry.services import alias_set
from tests.registry.test_query_counts import MODEL_PAGE_MAX_QUERIES

# The page budgets are PostgreSQL's (on SQLite each part of a page reads for itself).
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MANY = 10_000


def add_versions(model: RegisteredModel, count: int) -> None:
    """`count` more versions in bulk (as `manage.py synth` loads them): registering
    10,000 through the service would take minutes."""
    model.refresh_from_db()
    first = model.last_version_number + 1
    created_by_id = model.versions.values_list("created_by_id", flat=True).first()
    ModelVersion.objects.bulk_create(
        [
            ModelVersion(
                model=model,
                number=n,
                label=f"{n}.0.0",
                framework="sklearn",
                artifact_uri=f"s3://models/{model.name}/{n}/model.pkl",
                created_by_id=created_by_id,
            )
            for n in range(first, first + count)
        ],
        batch_size=2000,
    )
    RegisteredModel.objects.filter(pk=model.pk).update(last_version_number=first + count - 1)
    model.refresh_from_db()


def queries(client, url: str) -> tuple[int, str]:
    """Queries of one request after a first has warmed per-process caches, and its HTML."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.fixture
def busy(history, model, member, admin_user):
    """The approvals history's model (Production v1 after a rollback, its follow-up
    review open, an open request, rejected and withdrawn ones), with an alias and
    10,000 more versions."""
    v2 = model.versions.get(number=2)
    alias_set(actor=member, model=model, name="challenger", version=v2)
    add_versions(model, MANY)
    return model


@pytest.mark.parametrize("viewer", ["member", "outsider", "approver"])
def test_a_model_page_with_10000_versions_takes_at_most_12_queries(request, client, busy, viewer):
    client.force_login(request.getfixturevalue(viewer))
    count, html = queries(client, reverse("registry:model_detail", args=[busy.name]))
    # Production adds the check of its deployment notifications to the page's budget.
    assert count <= MODEL_PAGE_MAX_QUERIES + 1 <= 12
    # What the rows say is on the page: the newest version, the Production one, the
    # alias, the rollback review, the approvers and the open requests.
    assert f'id="version-{busy.last_version_number}"' in html
    assert 'id="no-production"' not in html
    assert 'id="alias-challenger"' in html
    assert 'id="rollback-flag"' in html and "bree put v1 back in Production" in html
    assert '<span class="person">carol</span>' in html
    assert "Request #" in html
    # Later pages of the versions table cost the same.
    url = reverse("registry:model_detail", args=[busy.name]) + "?page=200"
    assert queries(client, url)[0] == count


@pytest.mark.parametrize("viewer", ["member", "outsider", "approver"])
def test_a_version_page_takes_3_queries_with_its_stage_history_and_serving(
    request, client, busy, history, viewer
):
    client.force_login(request.getfixturevalue(viewer))
    rejected = history["rejected"]
    url = reverse("registry:version_detail", args=[busy.name, rejected.version.number])
    count, html = queries(client, url)
    assert count == 3
    # The stage history shows the requests with their reviews and reviewers.
    assert f'id="history-{rejected.pk}"' in html
    assert "carol rejected" in html and "the drift report is missing" in html
    # The newest of the 10,000 costs the same.
    newest = reverse("registry:version_detail", args=[busy.name, busy.last_version_number])
    count, html = queries(client, newest)
    assert count == 3 and 'id="no-stage-history"' in html
