"""The admin never dead-ends: every page reachable from its index renders (no 500, no
button that leads to a 403), and where an admin expects to add or change teams and
memberships it links to the Teams pages, which make the change through the services."""

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib import admin
from django.urls import reverse

from registry.choices import TeamRole
from registry.services import team_member_add

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"#]*)"')
MAX_PAGES = 200  # the crawl is bounded; the demo data below needs about 60


@pytest.fixture
def populated(admin_user, team, member, version, django_user_model):
    from audit.verification import chain_verify
    from registry.services import token_create

    token_create(actor=member, name="pipeline")
    team_member_add(
        actor=admin_user,
        team=team,
        user=django_user_model.objects.create_user("mia"),
        role=TeamRole.MAINTAINER,
    )
    chain_verify()


def _admin_links(html: str, base: str) -> set[str]:
    links = set()
    for href in HREF.findall(html):
        url = urljoin(base, unescape(href))
        parts = urlsplit(url)
        if parts.path.startswith("/admin/") and not parts.path.startswith("/admin/logout"):
            links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def test_every_admin_page_reachable_from_the_index_renders(client, admin_user, populated):
    client.force_login(admin_user)
    start = reverse("admin:index")
    seen, queue, failures = set(), [start], []
    # Each changelist, and its first object's page and history, must be reached.
    for model in admin.site._registry:
        queue.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        # Changelist filters and sort orders multiply without adding new page kinds.
        key = path if ("?" in url and url.count("=") > 1) else url
        if key in seen:
            continue
        seen.add(key)
        response = client.get(url)
        if response.status_code != 200:
            failures.append((url, response.status_code))
            continue
        if response.get("Content-Type", "").startswith("text/html"):
            queue.extend(_admin_links(response.content.decode(), url) - seen)
    assert not failures, failures
    assert len(seen) >= 20  # the crawl really went through the admin
    assert any("/registry/team/" in u and u.endswith("/change/") for u in seen)


def test_the_team_changelist_links_to_the_teams_pages(client, admin_user, team):
    client.force_login(admin_user)
    html = client.get(reverse("admin:registry_team_changelist")).content.decode()
    assert f'href="{reverse("teams:list")}"' in html
    assert "Create or manage teams" in html


def test_a_team_in_the_admin_links_to_its_members_page(client, admin_user, team, member):
    client.force_login(admin_user)
    html = client.get(reverse("admin:registry_team_change", args=[team.pk])).content.decode()
    manage = reverse("teams:detail", args=[team.slug])
    assert f'href="{manage}"' in html
    assert "Manage members and maintainers" in html
    assert "alice" in html and "Member" in html  # the memberships, with their roles
    assert client.get(manage).status_code == 200


def test_models_and_versions_in_the_admin_link_to_their_pages(client, admin_user, version):
    client.force_login(admin_user)
    for admin_url, page_url in [
        (
            reverse("admin:registry_registeredmodel_change", args=[version.model.pk]),
            reverse("registry:model_detail", args=[version.model.name]),
        ),
        (
            reverse("admin:registry_modelversion_change", args=[version.pk]),
            reverse("registry:version_detail", args=[version.model.name, version.number]),
        ),
    ]:
        html = client.get(admin_url).content.decode()
        [link] = re.findall(r'href="([^"]+)" class="viewsitelink"', html)
        assert link == page_url
        assert client.get(link).status_code == 200
