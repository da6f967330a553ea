"""Odd strings in every form field and query parameter never produce a server error.

The fields are discovered, not listed by hand: the API's from its OpenAPI schema
(drf-spectacular reads the serializers and filters), the pages' from their Django forms
and the catalog's query model. Each field gets, one at a time and with everything else
valid, a fixed corpus (NUL, lone surrogates, bidi marks, a 10 kB token, SQL and tsquery
syntax, quotes, emoji) and a few strings hypothesis builds from it, with a fixed seed.
Against PostgreSQL this is a real check: it refuses NUL and surrogates that SQLite keeps.
"""

import dataclasses
import itertools
import json
from collections.abc import Callable
from urllib.parse import quote, urlencode

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from approvals.services import transition_request
from audit.forms import EventFilterForm
from registry.choices import CARD_SECTION_NAMES
from registry.forms import CardForm, ModelMetadataForm
from registry.models import ModelCard, RegisteredModel
from registry.search import FACETS, CatalogQuery
from registry.services import deployment_target_create, token_create
from registry.team_forms import TeamCreateForm, TeamMemberAddForm

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Sent to every field. NUL and the surrogate are refused early, so the other oddities
# travel separately, in text the database can store and the search must parse.
CORPUS = [
    "fraud\x00scorer",
    "a\ud800b",
    '\u202eevil\u202c \u200f\'; DROP TABLE registry_team; -- "q" \U0001f600\u200d\U0001f680',
    "!fraud & (card:* | 'pay') <-> \\ \"",
    "x" * 10_000,
]
# Pieces hypothesis combines, plus any text (surrogates included) it cares to draw.
FRAGMENTS = [
    "\x00",
    "\udfff",
    "\u202e",
    "\u200f",
    "\U0001f600",
    "&",
    "|",
    "!",
    ":*",
    "'",
    '"',
    "\\",
    "%",
    "<->",
    "-1",
    "0",
    "1e309",
    "x" * 300,
]
odd_strings = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(st.characters(codec=None), max_size=8), max_size=4
).map("".join)

FUZZ = settings(
    max_examples=2,  # generated ones; the corpus is sent on top, as explicit examples
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def with_corpus(test):
    for value in reversed(CORPUS):
        test = example(value=value)(test)
    return test


def encode(pairs) -> str:
    """A query string as a client would send it; lone surrogates become the bytes a
    careless encoder produces (invalid UTF-8), since UTF-8 itself cannot carry them."""

    def quote_via(text, safe, encoding, errors):
        return quote(str(text).encode("utf-8", "surrogatepass"), safe)

    return urlencode(pairs, doseq=True, quote_via=quote_via)


@dataclasses.dataclass
class World:
    model: RegisteredModel
    parent: RegisteredModel
    member: object
    team: object
    api: object
    counter: itertools.count
    request_id: int = 0  # a pending transition request (of v1, to staging)
    target: str = ""  # a deployment target's name, for deployment reports

    @property
    def name(self) -> str:
        self.model.refresh_from_db()  # a fuzzed rename may have succeeded
        return self.model.name

    def unique(self) -> int:
        return next(self.counter)


@pytest.fixture
def world(make_model, make_version, member, team, admin_user):
    _, secret = token_create(actor=member, name="fuzzer")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    model = make_model(name="fraud-scorer")
    make_version(model)
    make_version(model, artifact_uri="")  # v2 has no artifact yet: attachable
    parent = make_model(name="base-model")
    make_version(parent)
    request = transition_request(
        actor=member,
        version=model.versions.get(number=1),
        to_stage="staging",
        reason="Fuzzing the approval endpoints with odd strings.",
    )
    target, _ = deployment_target_create(
        actor=admin_user,
        name="argo-prod-eu",
        environment="production",
        url="https://93.184.215.14/hooks",  # a public address: no name to resolve
        events=["test"],
    )
    return World(model, parent, member, team, api, itertools.count(1), request.pk, target.name)


def assert_no_server_error(response) -> None:
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    assert response.status_code < 500, (response.status_code, response.content[:500])


# --- The pages ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PageTarget:
    id: str
    method: str
    url: Callable[[World], str]
    field: str
    baseline: Callable[[World], dict]
    user: str = "member"


def model_form_baseline(world: World) -> dict:
    return {
        "name": f"fuzzed-{world.unique()}",
        "team": world.team.pk,
        "owner": world.member.pk,
        "description": "Predicts churn.",
        "purpose": "Retention offers.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "Last quarter.",
        "risk_tier": "medium",
        "tags": "churn",
    }


def no_fields(world: World) -> dict:
    return {}


def card_form_baseline(world: World) -> dict:
    """The card's current revision, so that a fuzzed save reaches the service."""
    card = ModelCard.objects.get(version__model=world.model, version__number=1)
    return {"revision": card.revision, **dict.fromkeys(CARD_SECTION_NAMES, "Text.")}


def page_targets() -> list[PageTarget]:
    targets = []
    catalog_params = [
        f.name for f in dataclasses.fields(CatalogQuery) if f.name != "filters"
    ] + list(FACETS)
    for param in catalog_params:
        targets.append(PageTarget(f"catalog-{param}", "GET", lambda w: "/", param, no_fields))
    for field in ModelMetadataForm.base_fields:
        targets.append(
            PageTarget(
                f"model-create-{field}",
                "POST",
                lambda w: reverse("registry:model_create"),
                field,
                model_form_baseline,
            )
        )
        targets.append(
            PageTarget(
                f"model-edit-{field}",
                "POST",
                lambda w: reverse("registry:model_edit", args=[w.name]),
                field,
                lambda w: {**model_form_baseline(w), "name": w.name},
            )
        )
    for field in CardForm().fields:
        targets.append(
            PageTarget(
                f"card-{field}",
                "POST",
                lambda w: reverse("registry:card_edit", args=[w.name, 1]),
                field,
                card_form_baseline,
            )
        )
    for field in EventFilterForm.base_fields:
        targets.append(
            PageTarget(f"audit-{field}", "GET", lambda w: "/audit/", field, no_fields, "admin")
        )
        targets.append(
            PageTarget(
                f"audit-export-{field}",
                "POST",
                lambda w: reverse("audit:export", args=["csv"]),
                field,
                no_fields,
                "admin",
            )
        )
    targets += [
        PageTarget(
            "model-page",
            "GET",
            lambda w: reverse("registry:model_detail", args=[w.name]),
            "page",
            no_fields,
        ),
        *[
            PageTarget(
                f"compare-{p}",
                "GET",
                lambda w: reverse("registry:version_compare", args=[w.name]),
                p,
                lambda w: {"a": 1, "b": 2},
            )
            for p in ("a", "b")
        ],
        PageTarget("token-name", "POST", lambda w: reverse("token_list"), "name", no_fields),
        *[
            PageTarget(
                f"team-create-{field}",
                "POST",
                lambda w: reverse("teams:list"),
                field,
                lambda w: {"name": f"Team {w.unique()}"},
                "admin",
            )
            for field in TeamCreateForm.base_fields
        ],
        *[
            PageTarget(
                f"team-member-add-{field}",
                "POST",
                lambda w: reverse("teams:member_add", args=[w.team.slug]),
                field,
                lambda w: {"username": "admin", "role": "member"},
                "admin",
            )
            for field in TeamMemberAddForm.base_fields
        ],
        *[
            PageTarget(f"{name}-page", "GET", url, "page", no_fields, "admin")
            for name, url in [
                ("teams", lambda w: reverse("teams:list")),
                ("team", lambda w: reverse("teams:detail", args=[w.team.slug])),
            ]
        ],
    ]
    return targets


@pytest.mark.parametrize("target", page_targets(), ids=lambda t: t.id)
@FUZZ
@given(value=odd_strings)
@with_corpus
def test_pages_never_fail_on_odd_input(client, world, admin_user, target, value):
    client.force_login(admin_user if target.user == "admin" else world.member)
    data = {**target.baseline(world), target.field: value}
    url = target.url(world)
    if target.method == "GET":
        response = client.get(f"{url}?{encode(data)}")
    else:
        response = client.post(url, encode(data), content_type="application/x-www-form-urlencoded")
    assert_no_server_error(response)


def test_a_page_refuses_a_nul_instead_of_failing(client, world):
    """The fuzzing above reaches the database: NUL reaches a query unless refused."""
    client.force_login(world.member)
    assert client.get("/?" + encode({"q": "fraud\x00"})).status_code == 400


# --- The API --------------------------------------------------------------------------


def api_baselines(world: World) -> dict[str, dict]:
    n = world.unique()
    return {
        "models_create": {
            "name": f"fuzzed-{n}",
            "team": world.team.slug,
            "owner": world.member.username,
            "description": "Predicts churn.",
            "purpose": "Retention offers.",
            "license": "MIT",
            "data_classification": "internal",
            "evaluation_coverage": "Last quarter.",
            "risk_tier": "medium",
            "tags": ["churn"],
        },
        "models_update": {"description": "Predicts churn."},
        "versions_register": {
            "label": f"9.{n}.0",
            "framework": "sklearn",
            "flavor": "pickle",
            "artifact_uri": f"s3://models/fuzz/{n}",
            "hyperparameters": {"lr": "0.1"},
            "metrics": [{"name": "auc", "value": 0.9, "dataset": "holdout"}],
            "data_versions": [
                {"dataset": "payments", "version_or_uri": "v1", "classification": "internal"}
            ],
            "parents": [{"model": world.parent.name, "version": 1, "relation": "derived_from"}],
        },
        "versions_update": {"release_notes": "Notes."},
        "versions_metrics_attach": {"metrics": [{"name": f"m{n}", "value": 0.5, "dataset": "d"}]},
        "versions_params_attach": {"hyperparameters": {"batch_size": 64}},
        "versions_data_versions_attach": {
            "data_versions": [
                {"dataset": f"d{n}", "version_or_uri": "v1", "classification": "internal"}
            ]
        },
        "versions_lineage_attach": {
            "parents": [{"model": world.parent.name, "version": 1, "relation": "derived_from"}]
        },
        "versions_artifact_attach": {"artifact_uri": f"s3://models/fuzz/{n}"},
        "versions_artifact_put": {"artifact_uri": f"s3://models/fuzz/{n}"},
        "versions_card_update": {
            **dict.fromkeys(CARD_SECTION_NAMES, "Text."),
            "confirm": ["intended_use"],
        },
        "versions_card_partial_update": {"intended_use": "Text.", "confirm": ["model_details"]},
        "transition_requests_create": {
            "to_stage": "archived",
            "reason": "Retired in favour of the new scorer.",
        },
        "transition_requests_approve": {"comment": "Looks right."},
        "transition_requests_reject": {"comment": "The card misses the Q3 slices."},
        "transition_requests_withdraw": {"comment": "Found a bug."},
        "aliases_set": {"version": 1, "reason": "Beats the current one on the hold-out set."},
        "targets_reports_create": {
            "model": world.parent.name,
            "version": 1,
            "state": "serving",
            "endpoint_url": "https://serving.example.com/base-model",
            "message": "Rollout complete.",
        },
    }


@dataclasses.dataclass(frozen=True)
class ApiTarget:
    id: str
    operation: str
    method: str
    path: str  # with {name}, {number} and {id}
    where: str  # "query", "path" or "body"
    field: tuple  # a path into the body; a ("key", k) step replaces the key k itself


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _leaves(value, prefix=()):
    """Paths to every string, number and dict key inside a baseline body."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, ("key", key))
            yield from _leaves(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _leaves(child, (*prefix, i))
    elif prefix:
        yield prefix


def api_targets() -> list[ApiTarget]:
    schema = _schema()
    components = schema["components"]["schemas"]
    baselines = api_baselines(_FakeWorld())
    targets, seen_bodies = [], set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            op = operation["operationId"]
            for param in operation.get("parameters", []):
                if param["in"] == "query":
                    targets.append(
                        ApiTarget(
                            f"{op}-?{param['name']}", op, method, path, "query", (param["name"],)
                        )
                    )
                elif param["in"] == "path" and method == "get":
                    targets.append(
                        ApiTarget(
                            f"{op}-/{param['name']}", op, method, path, "path", (param["name"],)
                        )
                    )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not body:
                continue
            assert op in baselines, f"{op} takes a body: give it a baseline in api_baselines()"
            ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
            if (path, ref) in seen_bodies:
                continue  # PUT and POST of the same body to the same view
            seen_bodies.add((path, ref))
            fields = {(name,) for name in components[ref].get("properties", {})}
            fields |= {leaf for leaf in _leaves(baselines[op]) if len(leaf) > 1}
            fields |= {leaf for leaf in _leaves(baselines[op]) if leaf[0][0] == "key"} - {
                ("key", k) for k in baselines[op]
            }
            for field in sorted(fields, key=repr):
                targets.append(
                    ApiTarget(f"{op}-{'.'.join(map(str, field))}", op, method, path, "body", field)
                )
    return targets


class _FakeWorld:
    """Enough of a World to read the baselines' shape at collection time."""

    parent = type("P", (), {"name": "base-model"})
    team = type("T", (), {"slug": "team"})
    member = type("U", (), {"username": "user"})
    counter = itertools.count(1)

    def unique(self):
        return next(self.counter)


def _replace(body, field: tuple, value):
    *parents, last = field
    node = body
    for step in parents:
        node = node[step]
    if isinstance(last, tuple) and last[0] == "key":
        node[value] = node.pop(last[1])
    else:
        node[last] = value


@pytest.mark.parametrize("target", api_targets(), ids=lambda t: t.id)
@FUZZ
@given(value=odd_strings)
@with_corpus
def test_the_api_never_fails_on_odd_input(world, target, value):
    path_values = {
        "name": world.name,
        "number": "2",
        "id": str(world.request_id),
        "target": world.target,
        "alias": "challenger",
    }
    query = ""
    body = None
    if target.where == "path":
        path_values[target.field[0]] = quote(value.encode("utf-8", "surrogatepass"), safe="")
    elif target.where == "query":
        query = "?" + encode({target.field[0]: value})
    else:
        body = api_baselines(world)[target.operation]  # valid, but for one field
        _replace(body, target.field, value)
    url = target.path.format(**path_values) + query
    send = getattr(world.api, target.method)
    # A card write needs If-Match (else 428 before the body is read); * matches any.
    extra = {"HTTP_IF_MATCH": "*"} if target.operation.startswith("versions_card") else {}
    if body is None:
        response = send(url, **extra)
    else:
        # ensure_ascii: a lone surrogate goes out as the JSON escape "\ud800".
        response = send(url, json.dumps(body), content_type="application/json", **extra)
    assert_no_server_error(response)
    assert response["Content-Type"].startswith("application/json"), response.content[:200]


def test_every_api_operation_with_a_body_is_fuzzed():
    fuzzed = {t.operation for t in api_targets() if t.where == "body"}
    fuzzed.add("versions_artifact_put")  # the same body and view as versions_artifact_attach
    schema = _schema()
    with_body = {
        op["operationId"]
        for ops in schema["paths"].values()
        for op in ops.values()
        if "requestBody" in op
    }
    assert with_body == fuzzed


def test_the_api_refuses_a_nul_instead_of_failing(world):
    """The fuzzing above reaches the database: NUL reaches a query unless refused."""
    url = f"/api/models/{world.name}/versions/1/params/"
    response = world.api.post(url, {"hyperparameters": {"k": "\x00"}}, format="json")
    assert response.status_code == 400
