"""The model and version pages show what each target reports serving, and warn when a
production target serves another version than the Production one (drift)."""

import re

import pytest
from django.urls import reverse

from registry.selectors import SERVING_LIMIT
from registry.services import deployment_report_record, deployment_target_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_target(admin_user):
    def make(name, environment="production"):
        target, _ = deployment_target_create(
            actor=admin_user,
            name=name,
            environment=environment,
            url="https://93.184.215.14/hooks",
            events=["test"],  # promotions in these tests send nothing
        )
        return target

    return make


@pytest.fixture
def report(member):
    def record(target, version, state="serving", endpoint_url=""):
        return deployment_report_record(
            actor=member, target=target, version=version, state=state, endpoint_url=endpoint_url
        )

    return record


def page(client, model, number=None) -> str:
    if number is None:
        url = reverse("registry:model_detail", args=[model.name])
    else:
        url = reverse("registry:version_detail", args=[model.name, number])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, target: str) -> str:
    match = re.search(rf'<tr id="serving-{target}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row for {target}"
    return match.group(0)


def test_the_model_page_shows_which_target_serves_which_version(
    client, outsider, model, make_version, make_target, report, promote_now
):
    v1, v2 = make_version(model), make_version(model)
    promote_now(v2)
    report(make_target("argo-prod-eu"), v2, endpoint_url="https://serve.example.com/fraud")
    report(make_target("argo-staging", environment="staging"), v1, state="deploying")
    client.force_login(outsider)  # every signed-in user sees it
    html = page(client, model)
    prod = row(html, "argo-prod-eu")
    assert ">v2<" in prod and "serving" in prod and "production" in prod
    assert 'href="https://serve.example.com/fraud"' in prod
    assert 'rel="noopener noreferrer nofollow"' in prod
    staging = row(html, "argo-staging")
    assert ">v1<" in staging and "deploying" in staging
    # Production targets come first.
    assert html.index('id="serving-argo-prod-eu"') < html.index('id="serving-argo-staging"')
    assert 'id="serving-drift"' not in html
    # Each report is in the model's history too.
    history = re.search(r'id="model-history".*?</section>', html, re.S).group(0)
    assert re.search(
        r"Deployment target <strong[^>]*>argo-staging</strong> reported: deploying", history
    )


def test_a_production_target_serving_another_version_is_drift(
    client, member, model, make_version, make_target, report, promote_now
):
    v1, v2 = make_version(model), make_version(model)
    promote_now(v2)
    report(make_target("argo-prod-eu"), v1)
    report(make_target("argo-staging", environment="staging"), v1)  # not drift: staging
    client.force_login(member)
    for html in (page(client, model), page(client, model, 1), page(client, model, 2)):
        drift = re.search(r'<section [^>]*id="serving-drift".*?</section>', html, re.S).group(0)
        assert 'role="alert"' in drift
        assert "argo-prod-eu" in drift and "argo-staging" not in drift
        assert re.search(r">v1</a>,\s*but <a [^>]*>v2</a> is the Production version", drift)
        assert 'class="drift"' in row(html, "argo-prod-eu")
        assert 'class="drift"' not in row(html, "argo-staging")


def test_serving_the_production_version_or_still_deploying_is_no_drift(
    client, member, model, make_version, make_target, report, promote_now
):
    v1, v2 = make_version(model), make_version(model)
    promote_now(v2)
    report(make_target("argo-prod-eu"), v2)
    report(make_target("argo-prod-us"), v1, state="deploying")
    report(make_target("argo-prod-ap"), v1, state="retired")
    client.force_login(member)
    assert 'id="serving-drift"' not in page(client, model)


def test_a_production_target_serving_when_nothing_is_in_production_is_drift(
    client, member, version, make_target, report
):
    report(make_target("argo-prod-eu"), version)
    client.force_login(member)
    html = page(client, version.model)
    assert "but no version is in Production" in html


def test_the_version_page_marks_its_own_rows(
    client, member, model, make_version, make_target, report
):
    v1, v2 = make_version(model), make_version(model)
    report(make_target("argo-staging", environment="staging"), v1)
    report(make_target("argo-canary", environment="other"), v2)
    client.force_login(member)
    html = page(client, model, 1)
    assert "this version" in row(html, "argo-staging")
    assert "this version" not in row(html, "argo-canary")


def test_a_model_nobody_reported_on_says_so(client, member, version):
    client.force_login(member)
    assert "No deployment target has reported serving this model yet." in page(
        client, version.model
    )


def test_the_list_is_bounded(client, member, version, make_target, report):
    for i in range(SERVING_LIMIT + 2):
        report(make_target(f"edge-{i:02d}", environment="other"), version)
    client.force_login(member)
    html = page(client, version.model)
    assert html.count('<tr id="serving-') == SERVING_LIMIT
    assert f"Showing the first {SERVING_LIMIT} targets." in html


def test_the_section_costs_one_query_however_many_targets_report(
    client, member, model, make_version, make_target, report
):
    from tests.registry.test_query_counts import queries

    v1 = make_version(model)
    client.force_login(member)
    urls = [
        reverse("registry:model_detail", args=[model.name]),
        reverse("registry:version_detail", args=[model.name, 1]),
    ]
    none = [queries(client, url) for url in urls]
    report(make_target("argo-prod-eu"), v1)
    few = [queries(client, url) for url in urls]
    for i in range(10):
        report(make_target(f"edge-{i}", environment="other"), make_version(model))
    assert [queries(client, url) for url in urls] == few == none
