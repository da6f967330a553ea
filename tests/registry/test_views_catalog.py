"""The catalog page: search, facets with counts, sorting, pagination, empty states."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.services import card_update, model_update

pytestmark = pytest.mark.django_db

CATALOG = reverse("registry:catalog")


def names(response) -> list[str]:
    """Model names in the result list, in the order shown."""
    return re.findall(r'class="model-name" href="[^"]+">([^<]+)</a>', response.content.decode())


def facet(response, name: str) -> dict[str, tuple[int, bool]]:
    """{value: (count, checked)} of one facet's checkboxes."""
    html = response.content.decode()
    block = re.search(rf'<fieldset class="facet" id="facet-{name}">(.*?)</fieldset>', html, re.S)
    assert block, f"no {name} facet on the page"
    found = re.findall(
        r'name="' + name + r'" value="([^"]+)"( checked)?>.*?<span class="count"[^>]*>(\d+)</span>',
        block.group(1),
        re.S,
    )
    return {value: (int(count), bool(checked)) for value, checked, count in found}


@pytest.fixture
def catalog(make_model, make_version, outsider, other_team, member):
    """Three models in two teams with different licenses, tags and frameworks."""
    fraud = make_model(name="fraud-scorer", tags=["fraud", "payments"])
    make_version(fraud, framework="xgboost")
    churn = make_model(
        name="churn-predictor",
        description="Predicts which subscribers cancel next month.",
        license="MIT",
        data_classification="internal",
        tags=["retention"],
    )
    make_version(churn, framework="pytorch")
    ranker = make_model(
        actor=outsider,
        owner=outsider,
        team=other_team,
        name="query-ranker",
        description="Orders search results by expected click.",
        license="Apache-2.0",
        data_classification="public",
        tags=["search"],
    )
    return {"fraud": fraud, "churn": churn, "ranker": ranker}


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


def test_it_lists_every_model_with_its_summary(signed_in, catalog):
    response = signed_in.get(CATALOG)
    assert response.status_code == 200
    assert names(response) == ["churn-predictor", "fraud-scorer", "query-ranker"]
    html = response.content.decode()
    assert "Predicts which subscribers cancel next month." in html
    assert "Search Ranking" in html  # team
    assert "XGBoost" in html and "PyTorch" in html  # latest framework
    assert "Apache-2.0" in html and "Confidential" in html
    assert '<span class="badge tag">retention</span>' in html
    assert '<span class="badge stage-none">Not staged</span>' in html
    assert "<strong>3</strong> models" in html


def test_what_users_typed_is_shown_as_text_not_markup(signed_in, make_model):
    """The rows and facets are rendered by Jinja2 partials (config/jinja2.py): their
    escaping is checked here, beside Django's for the rest of the page."""
    make_model(name="escaper", description='<img src=x onerror="alert(1)"> & more')
    html = signed_in.get(CATALOG).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; more" in html

    # A selected value stays listed (checked, 0) even when nothing has it.
    html = signed_in.get(CATALOG, {"license": '<b>"odd"</b>'}).content.decode()
    assert "<b>" not in html
    assert 'value="&lt;b&gt;&#34;odd&#34;&lt;/b&gt;" checked>' in html


@pytest.mark.parametrize(
    "q,expected",
    [
        ("churn", ["churn-predictor"]),  # name
        ("subscribers", ["churn-predictor"]),  # description
        ("retention", ["churn-predictor"]),  # tag
        ("Ranking", ["query-ranker"]),  # team name
    ],
)
def test_search_finds_models_by_name_description_tag_and_team(signed_in, catalog, q, expected):
    response = signed_in.get(CATALOG, {"q": q})
    assert names(response) == expected
    assert f'value="{q}"' in response.content.decode()  # the box keeps the query


def test_search_finds_models_by_model_card_text(signed_in, catalog, member):
    version = catalog["fraud"].versions.get()
    card_update(actor=member, card=version.card, sections={"training_data": "Quokka ledger 2024"})
    assert names(signed_in.get(CATALOG, {"q": "quokka"})) == ["fraud-scorer"]


def test_facets_show_counts_and_narrow_the_results(signed_in, catalog):
    response = signed_in.get(CATALOG)
    assert facet(response, "team") == {
        "fraud-detection": (2, False),
        "search-ranking": (1, False),
    }
    assert facet(response, "license") == {
        "proprietary": (1, False),
        "MIT": (1, False),
        "Apache-2.0": (1, False),
    }
    assert facet(response, "tag")["payments"] == (1, False)
    assert facet(response, "framework") == {"xgboost": (1, False), "pytorch": (1, False)}

    narrowed = signed_in.get(CATALOG, {"team": "fraud-detection"})
    assert names(narrowed) == ["churn-predictor", "fraud-scorer"]
    # The chosen facet still offers its other values (to widen), the others narrow.
    assert facet(narrowed, "team")["fraud-detection"] == (2, True)
    assert facet(narrowed, "team")["search-ranking"] == (1, False)
    assert "Apache-2.0" not in facet(narrowed, "license")
    assert "Team: Fraud Detection" in narrowed.content.decode()  # the active-filter chip

    both = signed_in.get(CATALOG, {"team": "fraud-detection", "tag": "retention"})
    assert names(both) == ["churn-predictor"]


def test_selecting_two_values_of_a_facet_shows_either(signed_in, catalog):
    response = signed_in.get(CATALOG + "?license=MIT&license=Apache-2.0")
    assert names(response) == ["churn-predictor", "query-ranker"]


def test_removing_an_active_filter_keeps_the_rest_of_the_query(signed_in, catalog):
    response = signed_in.get(CATALOG, {"q": "scores", "team": "fraud-detection", "tag": "fraud"})
    html = response.content.decode()
    chip = re.search(r'<a class="chip" href="\?([^"]+)"[^>]*>Tag: fraud', html)
    assert chip, html
    remaining = signed_in.get(CATALOG + "?" + chip.group(1).replace("&amp;", "&"))
    assert facet(remaining, "team")["fraud-detection"][1] is True
    assert facet(remaining, "tag")["fraud"] == (1, False)
    assert 'value="scores"' in remaining.content.decode()


def test_sorting(signed_in, catalog, member):
    assert names(signed_in.get(CATALOG, {"sort": "-name"})) == [
        "query-ranker",
        "fraud-scorer",
        "churn-predictor",
    ]
    model_update(actor=member, model=catalog["churn"], description="Touched last.")
    response = signed_in.get(CATALOG, {"sort": "-updated"})
    assert names(response)[0] == "churn-predictor"
    assert '<option value="-updated" selected>' in response.content.decode()


def test_pagination_keeps_the_query(signed_in, make_model):
    for i in range(5):
        make_model(name=f"model-{i}")
    first = signed_in.get(CATALOG, {"per_page": 2, "tag": "fraud"})
    assert names(first) == ["model-0", "model-1"]
    html = first.content.decode()
    assert "1–2 of 5" in html
    next_link = re.search(r'<a href="\?([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "tag=fraud" in next_link and "page=2" in next_link
    assert names(signed_in.get(CATALOG + "?" + next_link)) == ["model-2", "model-3"]
    assert names(signed_in.get(CATALOG, {"per_page": 2, "page": 3})) == ["model-4"]


def test_no_match_explains_and_offers_to_clear(signed_in, catalog):
    response = signed_in.get(CATALOG, {"q": "zebra", "team": "fraud-detection"})
    html = response.content.decode()
    assert names(response) == []
    assert "No models match “zebra” with these filters." in html
    assert 'id="empty-clear-filters"' in html
    clear = re.search(r'<a href="\?([^"]*)" id="empty-clear-filters">', html).group(1)
    assert clear == "q=zebra"
    assert f'href="{CATALOG}" id="show-all"' in html


def test_a_registry_without_models_says_how_to_start(signed_in):
    html = signed_in.get(CATALOG).content.decode()
    assert "No models registered yet" in html
    assert reverse("registry:model_create") in html


def test_edit_links_only_for_models_the_user_can_edit(client, catalog, member, outsider):
    client.force_login(member)
    html = client.get(CATALOG).content.decode()
    assert 'aria-label="Edit fraud-scorer"' in html
    assert 'aria-label="Edit query-ranker"' not in html
    client.force_login(outsider)
    html = client.get(CATALOG).content.decode()
    assert 'aria-label="Edit query-ranker"' in html
    assert 'aria-label="Edit fraud-scorer"' not in html


def test_edit_links_for_models_granted_to_the_user_or_their_group(
    client, catalog, django_user_model
):
    """A grant of the change permission on one model, to the user or to one of their
    groups, gives that model's row an Edit link; an approve grant does not."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from registry.models import RegisteredModel

    reviewer = django_user_model.objects.create_user("granted-reviewer", password="x")
    group = Group.objects.create(name="model-editors")
    reviewer.groups.add(group)
    by_name = {m.name: m for m in RegisteredModel.objects.all()}
    assign_perm("change_registeredmodel", reviewer, by_name["fraud-scorer"])
    assign_perm("change_registeredmodel", group, by_name["query-ranker"])
    assign_perm("approve_production_registeredmodel", reviewer, by_name["churn-predictor"])
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(CATALOG).content.decode()
    assert 'aria-label="Edit fraud-scorer"' in html
    assert 'aria-label="Edit query-ranker"' in html
    assert 'aria-label="Edit churn-predictor"' not in html
    if connection.vendor == "postgresql":
        # The grants come with the page's rows, in one statement.
        assert len(queries) == 5, [q["sql"][:80] for q in queries]
