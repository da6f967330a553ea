"""Who gets into the audit pages: every audit URL against the fixed cast."""

import pytest
from django.urls import reverse

from audit.audit_actions import Action
from audit.export import EXPORT_KINDS
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

AUDIT_URLS = [("get", reverse("audit:events"))] + [
    ("post", reverse("audit:export", args=[kind])) for kind in EXPORT_KINDS
]
URL_IDS = ["events"] + list(EXPORT_KINDS)


@pytest.fixture
def users(admin_user, member, outsider, auditor):
    return {"admin": admin_user, "member": member, "outsider": outsider, "auditor": auditor}


@pytest.mark.parametrize(("method", "url"), AUDIT_URLS, ids=URL_IDS)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("method", "url"), AUDIT_URLS, ids=URL_IDS)
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_people_without_the_audit_permission_get_403(client, users, who, method, url):
    client.force_login(users[who])
    before = AuditEvent.objects.count()
    response = getattr(client, method)(url)
    assert response.status_code == 403
    assert b"Only auditors" in response.content
    assert AuditEvent.objects.count() == before  # a refused export records nothing


@pytest.mark.parametrize(("method", "url"), AUDIT_URLS, ids=URL_IDS)
@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_auditors_and_superusers_get_in(client, users, who, method, url):
    client.force_login(users[who])
    response = getattr(client, method)(url)
    assert response.status_code == 200
    if method == "post":
        assert response.streaming
        b"".join(response.streaming_content)
        assert AuditEvent.objects.filter(
            action=Action.AUDIT_EXPORTED, actor_name=users[who].username
        ).exists()


def test_exports_are_not_reachable_by_get(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("audit:export", args=["events-csv"])).status_code == 405


def test_an_unknown_export_is_404(client, auditor):
    client.force_login(auditor)
    assert client.post(reverse("audit:export", args=["everything-xlsx"])).status_code == 404


def test_the_auditors_group_is_created_with_the_permission(django_user_model):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Auditors")
    user = django_user_model.objects.create_user("frank")
    user.groups.add(group)
    assert user.has_perm("audit.export_auditevent")


def test_the_nav_links_the_audit_log_for_auditors_only(client, auditor, member):
    client.force_login(auditor)
    assert reverse("audit:events") in client.get(reverse("registry:catalog")).content.decode()
    client.force_login(member)
    assert reverse("audit:events") not in client.get(reverse("registry:catalog")).content.decode()


@pytest.mark.parametrize(
    ("who", "shown"), [("auditor", True), ("admin", True), ("member", False), ("outsider", False)]
)
def test_the_navigation_links_the_audit_log_for_those_who_may_read_it(client, users, who, shown):
    client.force_login(users[who])
    page = client.get(reverse("registry:catalog")).content.decode()
    assert (f'<a href="{reverse("audit:events")}"' in page) is shown


def test_a_direct_grant_of_the_audit_permission_also_shows_the_link(client, member):
    from django.contrib.auth.models import Permission

    member.user_permissions.add(Permission.objects.get(codename="export_auditevent"))
    client.force_login(member)
    page = client.get(reverse("registry:catalog")).content.decode()
    assert f'<a href="{reverse("audit:events")}"' in page
