"""Whatever a filter or order_by says, the answer is results or MLflow's 400, never a 500."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.services import token_create

PIECES = st.sampled_from(
    [
        "name", "tags.team", "tags.`a b`", "tags.", "run_id", "version_number", "source_path",
        "=", "!=", "<>", "<", ">=", "LIKE", "ILIKE", "IN", "AND", "OR", "NOT", "(", ")", ",",
        "'fraud%'", "'%'", "''", "'it''s'", '"x"', "'\\'", "1", "-1", "99999999999", "1.5",
        "`", "'", "%", "_", "é", "\u202e",
    ]
)  # fmt: skip
FILTERS = st.one_of(
    st.lists(PIECES, max_size=8).map(" ".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
)
ORDERS = st.lists(
    st.one_of(
        st.sampled_from(["name", "name DESC", "version_number ASC"]),
        st.text(max_size=12).filter(lambda s: "\x00" not in s),
    ),
    max_size=3,
)


@pytest.fixture
def http(member):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=member, name='t')[1]}")


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=FILTERS, order_by=ORDERS, route=st.sampled_from(["registered-models", "model-versions"])
)
def test_any_filter_is_answered_in_json(http, version, text, order_by, route):
    response = http.get(
        f"/mlflow/api/2.0/mlflow/{route}/search", {"filter": text, "order_by": order_by}
    )
    assert response.status_code in (200, 400), response.content
    body = response.json()
    if response.status_code == 400:
        assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")
        assert body["message"]
