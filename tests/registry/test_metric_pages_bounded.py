"""Pages that show metrics do bounded work however many metrics a version has.

The limit refuses new metrics past METRICS_MAX_PER_VERSION, but versions recorded
before it existed can hold far more (one had 100,000 and its model page timed out).
Here one version gets 2,500, written directly as such old data would be.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Metric

pytestmark = pytest.mark.django_db

LEGACY_METRICS = 2500


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def crowded(model, make_version):
    """v1 with a few metrics, v2 with 2,500."""
    make_version(model, metrics=[{"name": "m00000", "value": 0.1}])
    version = make_version(model, metrics=[])
    Metric.objects.bulk_create(
        Metric(version=version, name=f"m{i:05d}", value=i / LEGACY_METRICS)
        for i in range(LEGACY_METRICS)
    )
    return version


def test_the_model_page_charts_a_bounded_number_of_metrics(signed_in, model, crowded):
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(f"/models/{model.name}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count("<svg") == 24
    assert "Charts show 24 of the 2500 metrics of the newest version with metrics" in html
    assert "m00000 across 2 versions, v1 to v2" in html
    biggest = max(len(q["sql"]) for q in queries.captured_queries)
    assert biggest < 20_000  # no query lists thousands of metric keys


def test_the_version_page_lists_at_most_the_limit(signed_in, model, crowded):
    html = signed_in.get(f"/models/{model.name}/v/2/").content.decode()
    section = html.split('id="version-metrics"', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") - 1 == 1000  # minus the header row
    assert "m00999" in section
    assert "m01000" not in section


def test_the_api_returns_at_most_the_limit(signed_in, model, crowded):
    detail = signed_in.get(f"/api/models/{model.name}/versions/2/").json()
    assert len(detail["metrics"]) == 1000
    part = signed_in.get(f"/api/models/{model.name}/versions/2/metrics/").json()
    assert [m["name"] for m in part["metrics"]] == [f"m{i:05d}" for i in range(1000)]


def test_the_compare_page_compares_at_most_the_limit(signed_in, model, crowded):
    html = signed_in.get(f"/models/{model.name}/compare/", {"a": 1, "b": 2}).content.decode()
    assert len(set(re.findall(r"m0\d{4}", html))) == 1000
