"""The relevance order (registry/search/bounded.py, README "Search"): it ranks a bounded
set of candidates, not every match, so this check guards its quality. 20 queries over
a fixed catalog (synthetic noise plus the models each query should find); the 3
models each query names must be in its top 5.

The exact limit and the number of candidates are set low, so every query here takes
the bounded path a large catalog takes: candidates from the top of the static order.
"""

import pytest

from registry.demo.synthetic import synth_catalog
from registry.search import CatalogQuery, catalog_search

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Words the synthetic catalog uses in names ("fraud-scorer-xgb-123") and descriptions.
NOISY = ["fraud", "churn", "credit", "pricing", "demand", "speech", "moderation",
         "sentiment", "geocoding", "translation"]  # fmt: skip
# Words nothing else in the catalog mentions.
RARE = ["quasar", "lantern", "orchid", "glacier", "falcon", "mosaic", "harbor", "nimbus",
        "cobalt", "saffron"]  # fmt: skip

PLAIN = {
    "purpose": "Support a business decision.",
    "evaluation_coverage": "A hold-out set.",
    "tags": [],
}


@pytest.fixture
def catalog(is_postgres, settings, make_model, make_version, promote_now):
    if not is_postgres:
        pytest.skip("ranking is PostgreSQL's (SQLite orders matches by name)")
    settings.SEARCH_EXACT_LIMIT = 10
    settings.SEARCH_RANK_CANDIDATES = 5
    synth_catalog(models=600, versions_per_model=1, seed=3, teams=4)
    expected = {}

    def production(model):
        promote_now(make_version(model))
        return model

    for word in NOISY:
        # The exact name first; then names starting with the word, Production first,
        # then the most recently updated (the synthetic ones are months old).
        exact = make_model(name=word, description=f"Generic {word} model.", **PLAIN)
        prod = production(make_model(name=f"{word}-guard", description="Serves checkout.", **PLAIN))
        recent = make_model(name=f"{word}-sentinel", description="New.", **PLAIN)
        expected[word] = {exact.name, prod.name, recent.name}
    for w, word in enumerate(RARE):
        for i in range(20):  # noise: one mention in the description (none in the name)
            make_model(name=f"noise-{w}-{i}", description=f"Mentions {word} once.", **PLAIN)
        # A name that starts with the word (a name match); the word in the name,
        # elsewhere (name words weigh more); the same description as the noise, but in
        # Production (the static order breaks the tie).
        named = make_model(name=f"{word}-engine", description="An engine.", **PLAIN)
        inner = make_model(name=f"blue-{word}", description="Blue.", **PLAIN)
        prod = production(
            make_model(name=f"prod-{word}", description=f"Mentions {word} once.", **PLAIN)
        )
        expected[word] = {named.name, inner.name, prod.name}
    return expected


def test_relevance_on_a_fixed_catalog(catalog):
    """One test, one catalog: building it takes most of the time."""
    each_query_ranks_its_three_models_in_its_top_five(catalog)
    an_exact_name_comes_first_and_production_beats_the_same_words()
    pages_past_the_candidates_continue_in_the_static_order()


def each_query_ranks_its_three_models_in_its_top_five(catalog):
    misses = {}
    for word, names in catalog.items():
        result = catalog_search(CatalogQuery(q=word, per_page=5))
        assert result.total > 10  # past the exact limit: ranked from candidates
        top = [m.name for m in result.page.object_list]
        if not names <= set(top):
            misses[word] = (sorted(names - set(top)), top)
    assert not misses, misses


def an_exact_name_comes_first_and_production_beats_the_same_words():
    result = catalog_search(CatalogQuery(q="fraud", per_page=5))
    top = [m.name for m in result.page.object_list]
    assert top[:2] == ["fraud", "fraud-guard"]
    result = catalog_search(CatalogQuery(q="orchid", per_page=25))
    order = [m.name for m in result.page.object_list]
    noise = [order.index(n) for n in order if n.startswith(f"noise-{RARE.index('orchid')}-")]
    assert noise and order.index("prod-orchid") < min(noise)


def pages_past_the_candidates_continue_in_the_static_order():
    """Every match is reachable: page after page, no model twice, none left out."""
    seen = []
    page = 1
    while True:
        result = catalog_search(CatalogQuery(q="lantern", per_page=4, page=page))
        seen += [m.name for m in result.page.object_list]
        if not result.page.has_next():
            break
        page += 1
    assert len(seen) == len(set(seen)) == 23
