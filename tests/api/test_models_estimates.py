"""The API's search says which figures are estimates (registry/search/bounded.py); the
exact limit and the sample size are set low, so that 24 models are "many"."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_api_says_which_figures_are_estimates(token_client, many_models, member):
    api = token_client(member)
    body = api.get("/api/models/").json()
    assert body["count_is_exact"] is False
    assert body["facets_exact"] == dict.fromkeys(
        ["team", "stage", "license", "classification", "framework", "tag"], False
    )
    assert body["exact_error"] == ""
    exact = api.get("/api/models/", {"exact": "true"}).json()
    assert exact["count_is_exact"] is True and exact["count"] == 24
    assert all(exact["facets_exact"].values())
    assert {v["value"]: v["count"] for v in exact["facets"]["license"]} == {
        "MIT": 18,
        "proprietary": 6,
    }
    assert api.get("/api/models/", {"exact": "maybe"}).status_code == 400
