"""The version page, the artifact download and the comparison of two versions."""

import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from registry.services import card_update

pytestmark = pytest.mark.django_db

WEIGHTS = b"\x00model weights\x01" * 1000


def page(name: str, number: int) -> str:
    return reverse("registry:version_detail", args=[name, number])


def compare(name: str) -> str:
    return reverse("registry:version_compare", args=[name])


@pytest.fixture
def signed_in(client, outsider):
    """Reading needs no team membership: every page here is read by an outsider."""
    client.force_login(outsider)
    return client


@pytest.fixture
def team_client(client, member):
    """fraud-scorer is confidential: its artifacts are for its team (test_artifact_access)."""
    client.force_login(member)
    return client


@pytest.fixture
def full_version(model, make_version, make_model, member):
    base = make_model(name="base-embeddings")
    parent = make_version(base)
    version = make_version(
        model,
        label="1.4.0",
        framework="xgboost",
        flavor="xgboost-2.1",
        artifact=ContentFile(WEIGHTS, name="model.ubj"),
        artifact_uri="",
        run_system="mlflow",
        run_id="run-42",
        run_url="https://mlflow.example.com/runs/run-42",
        code_repository="https://git.example.com/ml/fraud.git",
        code_commit="b" * 40,
        hyperparameters={"max_depth": 6, "eta": 0.1, "balanced": True},
        release_notes="Adds **3DS** signals.",
        metrics=[
            {"name": "auc", "value": 0.91, "dataset": "holdout"},
            {"name": "latency_ms", "value": 12.5, "higher_is_better": False},
        ],
        data_versions=[
            {
                "dataset": "payments",
                "version_or_uri": "s3://data/payments/2024-09",
                "content_hash": "sha256:abc",
                "classification": "confidential",
            }
        ],
        parents=[(parent, "fine_tuned_from")],
    )
    card_update(
        actor=member,
        card=version.card,
        sections={"intended_use": "Score **card** payments.", "training_data": "Q3 payments."},
    )
    return version


def test_the_version_page_shows_everything_recorded(signed_in, model, full_version):
    html = signed_in.get(page(model.name, full_version.number)).content.decode()
    assert "1.4.0" in html
    assert "XGBoost" in html and "xgboost-2.1" in html
    # metrics, params, data versions
    assert '<td>auc</td><td>holdout</td><td class="num">0.91</td>' in html
    assert "lower is better" in html
    assert "<code>max_depth</code></td><td><code>6</code>" in html
    assert "<code>balanced</code></td><td><code>true</code>" in html
    assert "s3://data/payments/2024-09" in html and "sha256:abc" in html
    # code, run
    assert 'href="https://git.example.com/ml/fraud/commit/' + "b" * 40 + '"' in html
    assert 'href="https://mlflow.example.com/runs/run-42"' in html
    # lineage, release notes, who
    assert "Fine-tuned from" in html
    assert page("base-embeddings", 1) in html
    assert "Adds <strong>3DS</strong> signals." in html
    assert 'id="created-by">alice<' in html


def test_the_artifact_link_shows_its_checksum_and_size(team_client, model, full_version):
    html = team_client.get(page(model.name, full_version.number)).content.decode()
    assert reverse("registry:artifact_download", args=[model.name, full_version.number]) in html
    assert hashlib.sha256(WEIGHTS).hexdigest() in html
    assert "14.6\xa0KB" in html  # 15,000 bytes


def test_the_card_is_rendered_with_its_completeness(signed_in, model, full_version):
    html = signed_in.get(page(model.name, full_version.number)).content.decode()
    assert "Score <strong>card</strong> payments." in html
    assert "2 of 9 sections filled (22%)" in html
    assert html.count("Not filled in yet.") == 7


def test_a_parent_lists_its_children(signed_in, full_version):
    html = signed_in.get(page("base-embeddings", 1)).content.decode()
    assert "Children" in html
    assert page("fraud-scorer", full_version.number) in html


def test_an_external_artifact_shows_its_uri(signed_in, model, version):
    html = signed_in.get(page(model.name, version.number)).content.decode()
    assert "s3://models/fraud-scorer/1/model.pkl" in html
    assert reverse("registry:artifact_download", args=[model.name, 1]) not in html


def test_an_empty_version_shows_its_empty_states(signed_in, model, make_version):
    make_version(model, metrics=[], code_repository="", code_commit="")
    html = signed_in.get(page(model.name, 1)).content.decode()
    assert "No metrics recorded for this version." in html
    assert "No hyper-parameters recorded." in html
    assert "No data versions recorded." in html
    assert "No lineage: this version has no recorded parents or children." in html
    assert "No release notes." in html


# --- download -------------------------------------------------------------------


def test_download_returns_the_bytes_with_their_checksum(team_client, model, full_version):
    url = reverse("registry:artifact_download", args=[model.name, full_version.number])
    response = team_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    assert response["X-Checksum-SHA256"] == hashlib.sha256(WEIGHTS).hexdigest()
    assert response["Content-Disposition"] == 'attachment; filename="model.ubj"'
    assert response["Content-Length"] == str(len(WEIGHTS))


def test_a_version_without_a_stored_file_has_nothing_to_download(signed_in, model, version):
    response = signed_in.get(reverse("registry:artifact_download", args=[model.name, 1]))
    assert response.status_code == 404
    assert "s3://models/fraud-scorer/1/model.pkl" in response.content.decode()


def test_a_stored_file_gone_from_storage_is_a_404_not_a_crash(
    team_client, model, full_version, artifact_dir
):
    (artifact_dir / full_version.artifact.name).unlink()
    url = reverse("registry:artifact_download", args=[model.name, full_version.number])
    response = team_client.get(url)
    assert response.status_code == 404
    assert "could not be found in artifact storage" in response.content.decode()


# --- compare ------------------------------------------------------------------------


@pytest.fixture
def two_versions(model, make_version, member):
    a = make_version(
        model,
        metrics=[
            {"name": "auc", "value": 0.80},
            {"name": "latency_ms", "value": 10.0, "higher_is_better": False},
            {"name": "recall", "value": 0.7},
        ],
        hyperparameters={"max_depth": 6, "eta": 0.1},
    )
    card_update(actor=member, card=a.card, sections={"intended_use": "Checkout.\nRefunds."})
    b = make_version(
        model,
        framework="xgboost",
        metrics=[
            {"name": "auc", "value": 0.85},
            {"name": "latency_ms", "value": 14.0, "higher_is_better": False},
            {"name": "recall", "value": 0.7},
        ],
        hyperparameters={"max_depth": 8, "eta": 0.1, "subsample": 0.8},
    )
    card_update(
        actor=member,
        card=b.card,
        sections={
            "intended_use": "Checkout.\n<b>Chargebacks</b>.",
            "caveats_and_limitations": "New.",
        },
    )
    return a, b


def metric_row(html: str, name: str) -> str:
    return re.search(rf'<tr data-metric="{name}">(.*?)</tr>', html, re.S).group(1)


def test_compare_shows_metric_deltas_coloured_by_direction(signed_in, model, two_versions):
    html = signed_in.get(compare(model.name), {"a": 1, "b": 2}).content.decode()
    auc = metric_row(html, "auc")
    assert "+0.05" in auc and "delta-good" in auc
    latency = metric_row(html, "latency_ms")
    assert "+4" in latency and "delta-bad" in latency  # slower is worse
    recall = metric_row(html, "recall")
    assert "+0" in recall and "delta-good" not in recall and "delta-bad" not in recall


def test_compare_shows_metadata_and_params_side_by_side(signed_in, model, two_versions):
    html = signed_in.get(compare(model.name), {"a": 1, "b": 2}).content.decode()
    assert re.search(
        r'<tr class="changed"><th scope="row">Framework</th><td>scikit-learn</td><td>XGBoost</td>',
        html,
    )
    assert re.search(
        r'<tr class="changed"><td><code>max_depth</code></td>\s*'
        r"<td><code>6</code></td>\s*<td><code>8</code>",
        html,
    )
    assert re.search(
        r'<td><code>subsample</code></td>\s*<td><span class="muted">—</span></td>', html
    )


def test_compare_diffs_card_sections_escaped(signed_in, model, two_versions):
    html = signed_in.get(compare(model.name), {"a": 1, "b": 2}).content.decode()
    assert '<span class="diff-line diff-del">- Refunds.</span>' in html
    assert '<span class="diff-line diff-add">+ &lt;b&gt;Chargebacks&lt;/b&gt;.</span>' in html
    assert '<span class="diff-line">  Checkout.</span>' in html
    assert '<span class="diff-line diff-add">+ New.</span>' in html
    assert "<b>Chargebacks</b>" not in html


@pytest.mark.parametrize(
    "params,message",
    [
        ({"a": "x", "b": 2}, "Version A: &#x27;x&#x27; is not a version number."),
        ({"a": 1, "b": 9}, "Version B: fraud-scorer has no version 9."),
        ({"a": 1, "b": 10**30}, f"Version B: fraud-scorer has no version {10**30}."),
        ({"a": -1, "b": 2}, "Version A: fraud-scorer has no version -1."),
    ],
)
def test_a_value_naming_no_version_is_a_400_with_the_picker(
    signed_in, model, two_versions, params, message
):
    response = signed_in.get(compare(model.name), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert '<select name="a" id="compare-a">' in html
    assert 'id="compare-metrics"' not in html


def test_picking_the_same_version_twice_says_so(signed_in, model, two_versions):
    response = signed_in.get(compare(model.name), {"a": 2, "b": 2})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pick two different versions to compare." in html
    assert 'id="compare-metrics"' not in html


def selected(html: str, select_id: str) -> str:
    select = re.search(rf'<select name="\w" id="{select_id}">(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="(\d+)" selected>', select)


@pytest.mark.parametrize("params", [{}, {"a": 1}, {"b": 2}, {"a": "", "b": ""}])
def test_the_versions_shown_picked_are_compared_without_an_error(
    signed_in, model, two_versions, params
):
    """The picker preselects v1 and v2: the page compares them instead of asking the
    user to pick two versions while two are already picked."""
    response = signed_in.get(compare(model.name), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pick" not in html
    assert 'id="compare-errors"' not in html
    assert selected(html, "compare-a") == ["1"] and selected(html, "compare-b") == ["2"]
    assert "+0.05" in metric_row(html, "auc")


def test_the_newest_two_are_compared_by_default(signed_in, model, two_versions, make_version):
    make_version(model, metrics=[{"name": "auc", "value": 0.9}])
    html = signed_in.get(compare(model.name)).content.decode()
    assert selected(html, "compare-a") == ["2"] and selected(html, "compare-b") == ["3"]
    assert "A: v2" in html and "B: v3" in html


def test_a_model_with_one_version_says_there_is_nothing_to_compare_yet(
    signed_in, model, make_version
):
    make_version(model)
    response = signed_in.get(compare(model.name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "has one version so far" in html
    assert 'id="compare-errors"' not in html and 'role="alert"' not in html
