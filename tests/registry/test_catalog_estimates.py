"""Beyond SEARCH_EXACT_LIMIT matches the catalog estimates its counts from a random
sample (registry/search/bounded.py). Checked against exact counts on a seeded catalog
of 12,000 models: for each query class, the estimated total is within ±5 % of the
exact one in at least 95 % of trials (a trial: one query, one position of the sample
window), and facet values keep the exact order except near-ties.

The catalog's ids are fixed (the id sequence is set before loading), so the samples,
and so this test's outcome, are the same on every run.
"""

import math
from itertools import combinations

import pytest
from django.db import connection
from django.db.models import Count

from registry.demo.synthetic import synth_catalog
from registry.search import CatalogQuery, catalog_search
from registry.search.bounded import sample_share
from registry.search.matching import filtered
from registry.search.query import FACETS


def test_a_sample_is_as_precise_as_its_size_whatever_share_of_the_matches_it_is():
    """The finite-population correction: sampling a share f of M matches gives the
    estimate a relative standard error of sqrt((1 - f) / (f M)); the share chosen for
    a size n makes that 1 / sqrt(n), so a large share needs fewer rows than n."""
    for matches in (1_500, 3_000, 6_000, 50_000, 1_000_000):
        share = sample_share(matches, 2000)
        error = math.sqrt((1 - share) / (share * matches))
        assert math.isclose(error, 1 / math.sqrt(2000))
        assert share * matches < 2000
    assert round(sample_share(3_000, 2000) * 3_000) == 1_200
    assert round(sample_share(6_000, 2000) * 6_000) == 1_500


CLASSES = {
    "broad text": ["model", "customer", "drift", "network"],
    "filters only": [
        {"license": ["proprietary"]},
        {"classification": ["internal"]},
        {"framework": ["pytorch", "sklearn"]},
        {"tag": ["tagger"]},
    ],
    "empty query, no filters": [{}],
    "text and filters": [
        {"q": "model", "license": ["proprietary"]},
        {"q": "support", "license": ["proprietary"]},
        {"q": "customer", "classification": ["internal"]},
    ],
}
TRIALS_PER_CLASS = 60


def _query(spec, start: int) -> CatalogQuery:
    if isinstance(spec, str):
        spec = {"q": spec}
    filters = {k: v for k, v in spec.items() if k in FACETS}
    return CatalogQuery(q=spec.get("q", ""), filters=filters, sample_start=start)


@pytest.fixture
def seeded_catalog(is_postgres):
    if not is_postgres:
        pytest.skip("estimates are PostgreSQL's (the embedded SQLite catalog counts exactly)")
    with connection.cursor() as cursor:
        # setval is not rolled back: later tests simply get higher ids.
        cursor.execute("SELECT setval('registry_registeredmodel_id_seq', 7000000)")
    synth_catalog(models=12_000, versions_per_model=1, seed=11, teams=12)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_registeredmodel")


@pytest.mark.django_db
@pytest.mark.postgres
def test_estimates_on_a_seeded_catalog(seeded_catalog, settings, django_assert_max_num_queries):
    """One test, one catalog: loading it takes most of the time."""
    estimates_fall_within_five_percent_in_95_percent_of_trials()
    estimated_facets_keep_the_exact_order_but_for_near_ties()
    work_does_not_grow_with_matches(django_assert_max_num_queries)
    count_exactly_gives_exact_figures()
    count_exactly_past_its_timeout_says_so_and_gives_estimates(settings)


def estimates_fall_within_five_percent_in_95_percent_of_trials():
    for name, specs in CLASSES.items():
        trials = inside = estimated = 0
        misses = []
        for i in range(TRIALS_PER_CLASS):
            spec = specs[i % len(specs)]
            query = _query(spec, start=(i * 7919) % 65536)
            result = catalog_search(query)
            exact = filtered(query).count()
            assert exact > 1000, f"{spec} must match more than the exact limit"
            trials += 1
            if result.total_is_exact:  # as cheap as a sample: at most ~2,000 matches
                assert result.total == exact
                inside += 1
                continue
            estimated += 1
            if abs(result.total - exact) <= 0.05 * exact:
                inside += 1
            else:
                misses.append((spec, result.total, exact))
        assert estimated >= trials / 2, f"{name}: only {estimated} of {trials} estimated"
        assert inside / trials >= 0.95, f"{name}: {inside}/{trials} inside ±5 %: {misses}"


def estimated_facets_keep_the_exact_order_but_for_near_ties():
    for spec in ["model", {"license": ["proprietary"]}, {}]:
        query = _query(spec, start=1234)
        result = catalog_search(query)
        assert not result.facets_are_exact
        estimated = {v.value: v.count for v in result.facets["framework"]}
        assert all(not v.exact for v in result.facets["framework"])
        rows = filtered(query).values("latest_framework").annotate(n=Count("pk"))
        exact = {r["latest_framework"]: r["n"] for r in rows if r["latest_framework"]}
        assert set(estimated) <= set(exact)
        for a, b in combinations(estimated, 2):
            if exact[a] > 1.25 * exact[b]:  # not a near-tie: the order must hold
                assert estimated[a] > estimated[b], (spec, a, b, estimated, exact)


def count_exactly_gives_exact_figures():
    query = CatalogQuery(q="model", filters={"license": ["proprietary"]}, exact=True)
    result = catalog_search(query)
    assert result.total_is_exact and result.facets_are_exact
    assert result.total == filtered(query).count()
    teams = {v.value: v.count for v in result.facets["team"]}
    exact = {}
    for model in filtered(query).select_related("team"):
        exact[model.team.slug] = exact.get(model.team.slug, 0) + 1
    assert teams == exact


def count_exactly_past_its_timeout_says_so_and_gives_estimates(settings):
    settings.SEARCH_EXACT_TIMEOUT_SECONDS = 0.001  # 1 ms: the statement is cancelled
    result = catalog_search(CatalogQuery(q="model", exact=True))
    assert "took longer than" in result.exact_error
    assert not result.total_is_exact and result.total > 1000
    assert result.page.object_list  # still a page of results


def work_does_not_grow_with_matches(django_assert_max_num_queries):
    """Three statements for any query (pilot, counts and page, rows), plus the team
    names of the facets."""
    for spec in ["model", "recommendations", {"license": ["proprietary"]}, {}]:
        with django_assert_max_num_queries(4):
            result = catalog_search(_query(spec, start=99))
            list(result.page.object_list)
