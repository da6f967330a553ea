"""The tag facet lists the 25 most used tags and offers the rest ("show all"), bounded."""

import re

import pytest
from django.urls import reverse

from registry.views import catalog as catalog_view

pytestmark = pytest.mark.django_db

CATALOG = reverse("registry:catalog")
TAGS = [f"tag-{i:02d}" for i in range(36)]


def listed_tags(html: str) -> list[str]:
    block = re.search(r'<fieldset class="facet" id="facet-tag">(.*?)</fieldset>', html, re.S)
    return re.findall(r'name="tag" value="([^"]+)"', block.group(1))


def link(html: str, link_id: str) -> str | None:
    found = re.search(rf'id="{link_id}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def many_tags(make_model):
    """36 distinct tags over three models; tag-00..tag-11 are on every model, so they
    are the most used."""
    for m in range(3):
        make_model(name=f"tagged-{m}", tags=TAGS[:12] + TAGS[12 + m * 8 : 20 + m * 8])


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


@pytest.mark.parametrize("params", [{}, {"q": "tagged"}, {"license": "proprietary"}])
def test_show_all_lists_the_tags_past_the_top_25(signed_in, many_tags, params):
    html = signed_in.get(CATALOG, params).content.decode()
    top = listed_tags(html)
    assert len(top) == 25
    assert set(TAGS[:12]) <= set(top)  # the most used come first
    href = link(html, "show-all-tag")
    assert href and "show_all=tag" in href and "Show all 36 tags" in html

    everything = signed_in.get(CATALOG + href.split("#")[0]).content.decode()

    assert sorted(listed_tags(everything)) == TAGS
    assert "Show all 36 tags" not in everything
    assert 'id="left-out-tag"' not in everything
    # The filter form keeps the full list when another filter is applied...
    assert '<input type="hidden" name="show_all" value="tag">' in everything
    # ...and the list can be folded back to the top 25.
    back = signed_in.get(CATALOG + link(everything, "show-top-tag").split("#")[0])
    assert len(listed_tags(back.content.decode())) == 25


def test_few_tags_need_no_link(signed_in, make_model):
    make_model(name="small", tags=["a", "b"])
    html = signed_in.get(CATALOG).content.decode()
    assert listed_tags(html) == ["a", "b"]
    assert 'id="show-all-tag"' not in html


@pytest.mark.parametrize("params", [{}, {"q": "tagged"}])
def test_show_all_is_bounded_and_says_how_many_it_leaves_out(
    signed_in, many_tags, monkeypatch, params
):
    # The engine reads the limit where it is defined; the page repeats it.
    monkeypatch.setattr("registry.search.facets.FACET_MAX", 30)
    monkeypatch.setattr(catalog_view, "FACET_MAX", 30)
    html = signed_in.get(CATALOG, {**params, "show_all": "tag"}).content.decode()
    assert len(listed_tags(html)) == 30
    assert "6 more tags not listed (at most 30 are)" in html


def test_a_selected_tag_past_the_top_25_stays_checked(signed_in, many_tags):
    html = signed_in.get(CATALOG, {"tag": "tag-35"}).content.decode()
    assert 'name="tag" value="tag-35" checked' in html


def test_unknown_show_all_values_are_ignored(signed_in, many_tags):
    response = signed_in.get(CATALOG, {"show_all": ["nonsense", "TAG", "tag "]})
    assert response.status_code == 200
    assert len(listed_tags(response.content.decode())) == 25
