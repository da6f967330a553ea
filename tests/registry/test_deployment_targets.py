"""Deployment targets: who defines them, which URLs they may have, and their secret,
which is shown once and then nowhere."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import DeploymentTarget
from registry.services import (
    deployment_target_create,
    deployment_target_rotate_secret,
    deployment_target_rotation_end,
    deployment_target_update,
    team_maintainer_add,
)

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks/modelgate"


def _create(actor, **overrides):
    values = {
        "actor": actor,
        "name": "argo-prod",
        "environment": "production",
        "url": PUBLIC_URL,
        "events": ["version.promoted.production"],
        **overrides,
    }
    return deployment_target_create(**values)


def test_a_new_target_gets_a_strong_secret_once(admin_user):
    target, secret = _create(admin_user)
    assert secret.startswith("whsec_") and len(secret) >= 6 + 44  # 32 random bytes
    event = AuditEvent.objects.get(action=Action.TARGET_CREATED)
    assert event.changes["url"] == PUBLIC_URL
    assert secret not in str(event.changes)
    assert _create(admin_user, name="argo-prod-2")[1] != secret


def test_the_admin_never_shows_the_secret(admin_user, client):
    target, secret = _create(admin_user)
    target, rotated = deployment_target_rotate_secret(actor=admin_user, target=target)
    client.force_login(admin_user)
    for url in (
        reverse("admin:registry_deploymenttarget_changelist"),
        reverse("admin:registry_deploymenttarget_change", args=[target.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert "argo-prod" in page.content.decode()
        for value in (secret, rotated, secret.removeprefix("whsec_")):
            assert value not in page.content.decode()


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://93.184.215.14/hooks", "Only http:// and https:// URLs"),
        ("https://", "no host name"),
        ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address"),
        ("http://localhost/hooks", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://10.1.2.3/hooks", "10.1.2.3 is a private address"),
        ("http://192.168.0.10/hooks", "is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://[::1]/hooks", "::1 is a loopback address"),
        ("http://[::ffff:10.0.0.1]/hooks", "::ffff:10.0.0.1 is a private address"),
        ("http://224.0.0.1/hooks", "224.0.0.1 is a multicast address"),
        ("http://0.0.0.0/hooks", "0.0.0.0 is an unspecified address"),
        ("http://240.0.0.1/hooks", "240.0.0.1 is a reserved address"),
        ("http://100.64.0.1/hooks", "100.64.0.1 is not a public address"),
        ("http://deploy:hunter2@93.184.215.14/hooks", "Put no user name or password"),
        ("http://no-such-host.invalid/hooks", "does not resolve"),
    ],
)
def test_urls_that_could_reach_inside_are_refused(admin_user, url, message):
    with pytest.raises(ValidationError) as refused:
        _create(admin_user, url=url)
    assert message in refused.value.message_dict["url"][0]
    assert not DeploymentTarget.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.TARGET_CREATED).exists()


def test_a_setting_allows_private_addresses(admin_user, settings):
    settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    target, _ = _create(admin_user, url="http://127.0.0.1:8080/hooks")
    assert target.url == "http://127.0.0.1:8080/hooks"


def test_bad_input_names_each_field(admin_user):
    with pytest.raises(ValidationError) as refused:
        _create(admin_user, name=" ", environment="moon", events=["deployed"], scope="team")
    errors = refused.value.message_dict
    assert set(errors) == {"name", "environment", "events", "team"}
    assert "not deployed" in errors["events"][0]


def test_names_are_unique_whatever_the_case(admin_user):
    _create(admin_user)
    with pytest.raises(ValidationError, match="exists already"):
        _create(admin_user, name="ARGO-prod")


def test_only_platform_admins_define_targets_for_all_models(member):
    with pytest.raises(PermissionDenied, match="Only platform admins"):
        _create(member)


def test_team_maintainers_define_targets_for_their_team(admin_user, member, team, other_team):
    with pytest.raises(PermissionDenied, match="maintainers of team Fraud Detection"):
        _create(member, scope="team", team=team)
    team_maintainer_add(actor=admin_user, team=team, user=member)
    target, _ = _create(member, scope="team", team=team)
    assert target.team == team
    with pytest.raises(PermissionDenied):
        _create(member, name="other", scope="team", team=other_team)


def test_a_model_owner_defines_targets_for_their_models(member, outsider, model):
    target, _ = _create(member, scope="models", models=[model])
    assert list(target.chosen_models.all()) == [model]
    with pytest.raises(PermissionDenied, match="Only the owning team"):
        _create(outsider, name="theirs", scope="models", models=[model])


def test_an_update_records_what_changed(admin_user):
    target, secret = _create(admin_user)
    deployment_target_update(
        actor=admin_user,
        target=target,
        name="argo-prod",
        environment="production",
        url=PUBLIC_URL,
        events=["version.promoted.production", "version.rolled_back"],
        scope="all",
        active=False,
    )
    event = AuditEvent.objects.get(action=Action.TARGET_UPDATED)
    assert event.changes == {
        "name": "argo-prod",
        "events": [
            ["version.promoted.production"],
            ["version.promoted.production", "version.rolled_back"],
        ],
        "active": [True, False],
    }
    target.refresh_from_db()
    assert target.secret == secret  # an update never changes the secret


def test_an_outsider_cannot_change_a_target(admin_user, outsider):
    target, _ = _create(admin_user)
    with pytest.raises(PermissionDenied):
        deployment_target_rotate_secret(actor=outsider, target=target)
    target.refresh_from_db()
    assert not target.previous_secret


def test_a_rotation_keeps_the_old_secret_until_it_ends(admin_user):
    target, old = _create(admin_user)
    target, new = deployment_target_rotate_secret(actor=admin_user, target=target)
    assert new != old
    target.refresh_from_db()
    assert (target.secret, target.previous_secret) == (new, old)
    assert target.rotation_ends_at is not None
    deployment_target_rotation_end(actor=admin_user, target=target)
    target.refresh_from_db()
    assert target.previous_secret == "" and target.rotation_ends_at is None
    with pytest.raises(ValidationError, match="not being rotated"):
        deployment_target_rotation_end(actor=admin_user, target=target)
