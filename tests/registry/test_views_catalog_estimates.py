"""What the catalog page and the API say when counts are estimates (registry/search/
bounded.py): "about", "~", a "Count exactly" link that gives exact figures, and a clear
message when counting exactly takes too long. The exact limit and the sample size are
set low, so that 24 models are "many"."""

import re

import pytest
from django.urls import reverse

from registry.search import bounded

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CATALOG = reverse("registry:catalog")


def result_count(response) -> str:
    html = response.content.decode()
    match = re.search(r'<p id="result-count">(.*?)</p>', html, re.S)
    assert match, "no result count"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_the_page_says_about_and_marks_estimated_facet_counts(client, many_models, member):
    client.force_login(member)
    response = client.get(CATALOG)
    text = result_count(response)
    assert text.startswith("about "), text
    html = response.content.decode()
    assert 'class="count estimate"' in html and ">~" in html
    assert 'id="estimates-note"' in html
    assert 'id="count-exactly"' in html and "exact=1" in html


def test_count_exactly_shows_exact_figures(client, many_models, member):
    client.force_login(member)
    response = client.get(CATALOG, {"exact": "1"})
    assert result_count(response).startswith("24 models")
    html = response.content.decode()
    assert 'class="count estimate"' not in html
    assert 'id="counted-exactly"' in html
    licenses = re.findall(
        r'name="license" value="([^"]+)".*?<span class="count">(\d+)<', html, re.S
    )
    assert dict(licenses) == {"MIT": "18", "proprietary": "6"}


def test_count_exactly_that_takes_too_long_says_so(client, many_models, member, monkeypatch):
    real = bounded.search_bounded

    def slow(query):
        if query.exact:
            raise bounded.ExactCountTimeout
        return real(query)

    monkeypatch.setattr("registry.search.engine.search_bounded", slow)
    client.force_login(member)
    response = client.get(CATALOG, {"exact": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Counting exactly took longer than" in html
    assert result_count(response).startswith("about ")
    assert len(re.findall(r'class="model-row"', html)) == 24


def test_a_page_past_the_last_result_says_so(client, many_models, member):
    client.force_login(member)
    response = client.get(CATALOG, {"page": "2"})
    html = response.content.decode()
    assert 'id="past-results"' in html and 'id="first-page"' in html
    assert 'id="no-results"' not in html


def test_a_little_past_the_limit_counts_are_exact_and_only_tags_estimated(
    client, many_models, member, settings
):
    """Matches a little past the exact limit cost less to read whole than to sample:
    the total and the other facets' counts are exact; the tags' counts, which cost most
    per row, come from a quarter of the sample keys, and are marked as estimates."""
    settings.SEARCH_SAMPLE_SIZE = 2000  # a sample would be most of the 24 models
    client.force_login(member)
    response = client.get(CATALOG)
    assert result_count(response).startswith("24 models")
    html = response.content.decode()
    licenses = re.findall(
        r'name="license" value="([^"]+)".*?<span class="count">(\d+)<', html, re.S
    )
    assert dict(licenses) == {"MIT": "18", "proprietary": "6"}
    assert 'id="count-exactly"' in html  # which counts the tags exactly
    answer = client.get("/api/models/").json()
    assert (answer["count"], answer["count_is_exact"]) == (24, True)
    assert answer["facets_exact"]["license"] and not answer["facets_exact"]["tag"]
    response = client.get(CATALOG, {"exact": "1"})
    tags = re.search(r'id="facet-tag".*?</fieldset>', response.content.decode(), re.S).group(0)
    assert 'class="count estimate"' not in tags and '<span class="count">24<' in tags
