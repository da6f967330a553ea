"""Git targets (issue 10 point 5b): a promotion becomes a commit to a manifest in a real
bare repository on disk, pushed through the same outbox, claim, retry schedule and
attempt log as a webhook. Sends run in-process through services.delivery_send, the call
the Celery task makes (the worker's part is in test_webhooks_celery.py)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from approvals.services import transition_request
from registry.deployments import gitops
from registry.models import Delivery, DeliveryAttempt, DeploymentTarget
from registry.services import (
    delivery_redeliver,
    delivery_send,
    deployment_target_create,
    deployment_target_rotate_secret,
    deployment_target_test,
)

pytestmark = pytest.mark.django_db


def _send(delivery) -> str:
    return delivery_send(delivery_id=delivery.pk)


def _attempts(delivery) -> list[tuple[str, str]]:
    rows = DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
    return [(a.response_body, a.error) for a in rows]


# --- Promotions become commits ---------------------------------------------------------


def test_a_promotion_is_a_commit_with_the_manifest_and_the_reason(
    make_git_target, bare_repo, promote_now, version
):
    make_git_target()
    request = promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "delivered"

    assert bare_repo.commits() == ["Deploy fraud-scorer v1 (1.0.0) to production"]
    message = bare_repo.message()
    assert "Reason: Beats the current model on the hold-out set." in message
    assert f"Modelgate-Request: {request.pk}" in message
    assert f"Modelgate-Delivery: {delivery.webhook_id}" in message
    assert bare_repo.git("log", "-1", "--format=%an <%ae>", "main").strip() == (
        "Modelgate <modelgate@localhost>"
    )
    assert bare_repo.manifest() == {
        "models": {
            "fraud-scorer": {
                "version": 1,
                "label": "1.0.0",
                "artifact_uri": "s3://models/fraud-scorer/1/model.pkl",
                "artifact_sha256": version.artifact_sha256,
                "stage": "production",
                "approvers": [],
                "reason": "Beats the current model on the hold-out set.",
                "request_id": request.pk,
                "event": "version.promoted.production",
            }
        }
    }
    [(summary, error)] = _attempts(delivery)
    assert summary.startswith("Pushed ") and "to main: deploy/models.json" in summary
    assert error == ""


def test_a_second_promotion_updates_the_manifest_and_keeps_other_models(
    make_git_target, bare_repo, promote_now, model, make_model, make_version
):
    make_git_target()
    churn = make_model(name="churn-model")
    promote_now(make_version(model))
    promote_now(make_version(churn))
    promote_now(make_version(model))
    for delivery in Delivery.objects.order_by("pk"):
        assert _send(delivery) == "delivered"

    assert bare_repo.commits() == [
        "Deploy fraud-scorer v2 (2.0.0) to production",
        "Deploy churn-model v1 (1.0.0) to production",
        "Deploy fraud-scorer v1 (1.0.0) to production",
    ]
    models = bare_repo.manifest()["models"]
    assert models["fraud-scorer"]["version"] == 2
    assert models["fraud-scorer"]["artifact_uri"] == "s3://models/fraud-scorer/2/model.pkl"
    assert models["churn-model"]["version"] == 1


def test_archiving_the_deployed_version_removes_its_entry(
    make_git_target, bare_repo, promote_now, version, member
):
    make_git_target()
    promote_now(version)
    archive = transition_request(
        actor=member, version=version, to_stage="archived", reason="Retired with the old API."
    )
    archive.refresh_from_db()
    assert archive.state == "applied", archive.blocked_reason
    for delivery in Delivery.objects.order_by("pk"):
        assert _send(delivery) == "delivered"
    assert bare_repo.commits() == [
        "Remove fraud-scorer v1 (1.0.0): archived",
        "Deploy fraud-scorer v1 (1.0.0) to production",
    ]
    assert bare_repo.manifest() == {"models": {}}


def test_a_push_refused_by_a_hook_is_a_failed_attempt_then_retried(
    make_git_target, bare_repo, promote_now, version
):
    make_git_target()
    bare_repo.hook("pre-receive", "echo 'deploys are frozen' >&2; exit 1")
    promote_now(version)
    delivery = Delivery.objects.get()

    assert _send(delivery) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert "pre-receive hook declined" in delivery.last_error
    assert "deploys are frozen" in delivery.last_error
    assert bare_repo.commits() == []

    bare_repo.hook("pre-receive", None)
    assert _send(delivery) == "delivered"  # base delay 0 in tests: due again at once
    assert bare_repo.commits() == ["Deploy fraud-scorer v1 (1.0.0) to production"]
    [(_, first_error), (pushed, second_error)] = _attempts(delivery)
    assert "pre-receive hook declined" in first_error
    assert pushed.startswith("Pushed ") and second_error == ""


def test_a_commit_pushed_meanwhile_is_fetched_and_the_change_redone_on_top(
    make_git_target, bare_repo, promote_now, version, monkeypatch
):
    bare_repo.commit_from_elsewhere({"README.md": "Deploys\n"}, "Start", branch="main")
    make_git_target()
    promote_now(version)
    other = json.dumps({"models": {"churn-model": {"version": 4}}, "owner": "ml-platform"})
    fetches = []
    real_fetch = gitops._fetch

    def fetch_then_someone_pushes(git, branch):
        existed = real_fetch(git, branch)
        if not fetches:  # between our fetch and our push, Dana pushes
            bare_repo.commit_from_elsewhere({"deploy/models.json": other}, "Dana's change")
        fetches.append(branch)
        return existed

    monkeypatch.setattr(gitops, "_fetch", fetch_then_someone_pushes)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "delivered"

    assert len(fetches) == 2
    assert bare_repo.commits() == [
        "Deploy fraud-scorer v1 (1.0.0) to production",
        "Dana's change",
        "Start",
    ]
    manifest = bare_repo.manifest()
    assert manifest["owner"] == "ml-platform"
    assert manifest["models"]["churn-model"] == {"version": 4}
    assert manifest["models"]["fraud-scorer"]["version"] == 1
    [(summary, _)] = _attempts(delivery)
    assert "after the branch moved on" in summary


def test_an_unreachable_repository_is_retried_until_exhausted(
    make_git_target, git_root, promote_now, version, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    make_git_target(repository=f"file://{git_root}/missing.git")
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "pending"
    assert _send(delivery) == "exhausted"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Gave up after 2 attempts. git ls-remote failed:")
    assert "does not appear to be a git repository" in delivery.last_error


def test_redelivery_of_what_the_manifest_already_says_makes_no_commit(
    make_git_target, bare_repo, promote_now, version, admin_user
):
    make_git_target()
    promote_now(version)
    delivery = Delivery.objects.get()
    assert _send(delivery) == "delivered"

    delivery_redeliver(actor=admin_user, delivery=delivery)
    assert _send(delivery) == "delivered"
    assert len(bare_repo.commits()) == 1
    summary = _attempts(delivery)[-1][0]
    assert "already says this" in summary and "nothing committed" in summary


def test_a_test_event_fetches_and_writes_nothing(
    make_git_target, bare_repo, admin_user, promote_now, version
):
    target = make_git_target()
    delivery = deployment_target_test(actor=admin_user, target=target)
    assert _send(delivery) == "delivered"
    assert "branch main does not exist yet" in _attempts(delivery)[0][0]

    promote_now(version)
    _send(Delivery.objects.get(event="version.promoted.production"))
    delivery = deployment_target_test(actor=admin_user, target=target)
    assert _send(delivery) == "delivered"
    assert "Fetched main at" in _attempts(delivery)[0][0]
    assert len(bare_repo.commits()) == 1


def test_credentials_in_git_output_are_masked():
    said = "fatal: unable to access 'https://deploy:ghp_s3cret@git.example.com/org/x.git/'"
    assert "ghp_s3cret" not in gitops.mask(said)
    assert "https://***@git.example.com" in gitops.mask(said)


# --- Where a Git target may point --------------------------------------------------------


def _create(admin_user, **values):
    return deployment_target_create(
        actor=admin_user,
        kind="git",
        name="gitops",
        environment="production",
        events=["version.promoted.production"],
        **{"repository": "", "branch": "main", "manifest_path": "models.json", **values},
    )


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        ("file:///etc/deploy.git", "Local repositories must be inside"),
        ("/var/lib/postgresql", "Local repositories must be inside"),
        ("{root}/../outside.git", "Local repositories must be inside"),
        ("file://{root}", "Local repositories must be inside"),
        ("https://deploy:token@github.com/org/deploy.git", "Put no user name, password or token"),
        ("ext::sh -c touch% /tmp/pwned", "no spaces"),
        ("--upload-pack=touch /tmp/x", "does not start with '-'"),
        ("ftp://example.com/deploy.git", "Use an https:// or ssh:// URL"),
        ("ssh://git@127.0.0.1/deploy.git", "Git targets go only to public addresses"),
    ],
)
def test_repositories_outside_the_allowed_places_are_refused(
    admin_user, git_root, repository, message
):
    with pytest.raises(ValidationError) as refused:
        _create(admin_user, repository=repository.format(root=git_root))
    assert message in refused.value.message_dict["repository"][0]
    assert not DeploymentTarget.objects.exists()


def test_local_repositories_are_refused_when_no_directory_is_allowed(admin_user, settings):
    settings.MODELGATE_GITOPS_LOCAL_DIR = ""
    with pytest.raises(ValidationError) as refused:
        _create(admin_user, repository="/srv/git/deploy.git")
    assert "MODELGATE_GITOPS_LOCAL_DIR" in refused.value.message_dict["repository"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("manifest_path", "../escape.json"),
        ("manifest_path", "/etc/models.json"),
        ("manifest_path", "deploy/../../models.json"),
        ("manifest_path", ".git/config.json"),
        ("manifest_path", "models.txt"),
        ("branch", "-delete"),
        ("branch", "main..other"),
        ("branch", "with space"),
    ],
)
def test_bad_branches_and_manifest_paths_are_refused(admin_user, bare_repo, field, value):
    with pytest.raises(ValidationError) as refused:
        _create(admin_user, repository=bare_repo.url, **{field: value})
    assert field in refused.value.message_dict
    assert not DeploymentTarget.objects.exists()


def test_a_git_target_has_no_secret_to_rotate(make_git_target, admin_user):
    target = make_git_target()
    assert target.secret == "" and target.url == ""
    with pytest.raises(ValidationError, match="has no secret"):
        deployment_target_rotate_secret(actor=admin_user, target=target)


# --- Pages -------------------------------------------------------------------------------


def test_an_admin_creates_a_git_target_and_its_page_shows_repo_and_branch_never_a_secret(
    client, admin_user, bare_repo, webhook_settings
):
    client.force_login(admin_user)
    form = client.get(reverse("deployments:create") + "?kind=git").content.decode()
    assert 'name="repository"' in form and 'name="manifest_path"' in form
    assert 'name="url"' not in form

    response = client.post(
        reverse("deployments:create") + "?kind=git",
        {
            "name": "argo-gitops-prod",
            "environment": "production",
            "repository": bare_repo.url,
            "branch": "main",
            "manifest_path": "deploy/models.json",
            "events": ["version.promoted.production"],
            "scope": "all",
            "active": "on",
        },
    )
    target = DeploymentTarget.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deployments:target", args=[target.pk])
    assert target.kind == "git" and target.secret == ""

    page = client.get(response["Location"]).content.decode()
    assert "Created Git target argo-gitops-prod." in page
    assert bare_repo.url in page and 'id="target-branch">main<' in page
    assert "deploy/models.json" in page
    assert "whsec_" not in page and "Secret" not in page and "Rotate secret" not in page

    listing = client.get(reverse("deployments:list")).content.decode()
    assert bare_repo.url in listing

    rotate = client.get(reverse("deployments:rotate", args=[target.pk]), follow=True)
    assert "it has no secret to rotate" in rotate.content.decode()

    edit = client.get(reverse("deployments:edit", args=[target.pk])).content.decode()
    assert f'value="{bare_repo.url}"' in edit and 'name="url"' not in edit


def test_a_git_target_form_refuses_a_disallowed_path_on_its_field(
    client, admin_user, git_root, webhook_settings
):
    client.force_login(admin_user)
    response = client.post(
        reverse("deployments:create") + "?kind=git",
        {
            "name": "gitops",
            "environment": "production",
            "repository": "/etc/passwd.git",
            "branch": "main",
            "manifest_path": "../x.json",
            "events": ["version.promoted.production"],
            "scope": "all",
            "active": "on",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Local repositories must be inside" in page
    assert "without &#x27;..&#x27;" in page
    assert not DeploymentTarget.objects.exists()


def test_a_failed_push_shows_on_the_delivery_page(
    client, admin_user, make_git_target, bare_repo, promote_now, version
):
    make_git_target()
    bare_repo.hook("pre-receive", "echo 'deploys are frozen' >&2; exit 1")
    promote_now(version)
    delivery = Delivery.objects.get()
    _send(delivery)
    client.force_login(admin_user)
    page = client.get(reverse("deployments:delivery", args=[delivery.pk])).content.decode()
    assert "deploys are frozen" in page and "pre-receive hook declined" in page
    assert "What was pushed" in page and bare_repo.url in page
