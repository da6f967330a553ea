"""The catalog selector: text search, facets with counts, sorting, pagination."""

import pytest

from registry.search import CatalogQuery, catalog_search
from registry.services import card_update, model_update

pytestmark = pytest.mark.django_db


def search(**params):
    return catalog_search(CatalogQuery.from_params(params))


def names(result):
    return [m.name for m in result.page.object_list]


def facet(result, name):
    return {v.value: v.count for v in result.facets[name]}


@pytest.fixture
def catalog(make_model, make_version, outsider, other_team, admin_user):
    fraud = make_model(name="fraud-scorer", tags=["fraud", "payments"], license="MIT")
    churn = make_model(
        name="churn-predictor",
        description="Predicts which subscribers will cancel next month.",
        purpose="Target retention offers.",
        tags=["retention"],
        data_classification="internal",
    )
    ranker = make_model(
        actor=admin_user,
        name="search-ranker",
        team=other_team,
        owner=outsider,
        description="Orders search results.",
        tags=["search", "payments"],
        license="Apache-2.0",
    )
    make_version(fraud, framework="xgboost")
    make_version(ranker, actor=admin_user, framework="pytorch")
    return fraud, churn, ranker


def test_text_search_matches_name_description_tags_and_team(catalog):
    assert names(search(q="subscribers")) == ["churn-predictor"]
    assert names(search(q="retention")) == ["churn-predictor"]
    assert names(search(q="ranking", sort="name")) == ["search-ranker"]  # team name
    assert names(search(q="payments", sort="name")) == ["fraud-scorer", "search-ranker"]


def test_text_search_covers_the_newest_card(catalog, member):
    fraud = catalog[0]
    card = fraud.versions.get().card
    card_update(
        actor=member,
        card=card,
        sections={"caveats_and_limitations": "Unreliable for crypto wallets"},
    )
    assert names(search(q="wallets")) == ["fraud-scorer"]


def test_facet_counts_describe_the_results(catalog):
    result = search()
    assert result.total == 3
    assert facet(result, "team") == {"fraud-detection": 2, "search-ranking": 1}
    assert facet(result, "license") == {"proprietary": 1, "MIT": 1, "Apache-2.0": 1}
    assert facet(result, "framework") == {"xgboost": 1, "pytorch": 1}
    assert facet(result, "tag")["payments"] == 2
    assert facet(result, "stage") == {"none": 3}


def test_a_facet_ignores_its_own_selection_so_it_can_be_widened(catalog):
    result = search(team=["search-ranking"])
    assert names(result) == ["search-ranker"]
    assert facet(result, "team") == {"fraud-detection": 2, "search-ranking": 1}
    assert [v.value for v in result.facets["team"] if v.selected] == ["search-ranking"]
    # Other facets count only the selected team's models.
    assert facet(result, "license") == {"Apache-2.0": 1}


def test_with_a_text_query_each_selected_facet_counts_under_the_other_filters(catalog):
    result = search(q="payments", team=["search-ranking"], license=["MIT"])
    assert names(result) == [] and result.total == 0
    # Team counts ignore the team selection but keep the license one, and vice versa.
    assert facet(result, "team") == {"fraud-detection": 1}
    assert facet(result, "license") == {"Apache-2.0": 1}
    assert facet(result, "framework") == {}
    widened = search(q="payments", license=["MIT", "Apache-2.0"], framework=["pytorch"])
    assert names(widened) == ["search-ranker"]
    assert facet(widened, "license") == {"Apache-2.0": 1}
    assert facet(widened, "framework") == {"xgboost": 1, "pytorch": 1}
    assert facet(widened, "tag") == {"payments": 1, "search": 1}


def test_tags_are_conjunctive(catalog):
    assert names(search(tag=["payments", "search"])) == ["search-ranker"]
    assert names(search(tag=["payments", "retention"])) == []


def test_sorting_and_pagination(catalog, member):
    result = search(sort="-name", per_page=2)
    assert names(result) == ["search-ranker", "fraud-scorer"]
    assert result.page.paginator.num_pages == 2
    assert names(search(sort="-name", per_page=2, page=2)) == ["churn-predictor"]
    model_update(actor=member, model=catalog[1], purpose="Retain subscribers.")
    assert names(search(sort="-updated"))[0] == "churn-predictor"


def test_bad_parameters_fall_back_to_defaults(catalog):
    result = search(page="x", per_page="-5", sort="nonsense")
    assert result.query.page == 1 and result.query.per_page == 1 and result.query.sort == "name"


def test_unfiltered_facets_see_a_new_model(catalog, make_model, django_capture_on_commit_callbacks):
    assert search().total == 3
    with django_capture_on_commit_callbacks(execute=True):
        make_model(name="new-one")
    assert search().total == 4
    assert facet(search(), "team")["fraud-detection"] == 3
