"""The demo and rundemo management commands: the organisation, its approvers and
stage history, and the logins a new user walks the approval flow with."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from approvals.approvers import approver_ids, approvers, can_approve, grants_for
from approvals.audit_actions import ApprovalAction
from approvals.models import TransitionRequest
from approvals.selectors import inbox
from approvals.services import review_approve, transition_request
from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import (
    ModelCard,
    ModelVersion,
    RegisteredModel,
    StageChange,
    Team,
    VersionParent,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def login_table(output: str) -> dict[str, str]:
    """{username: password} from the logins table the command prints."""
    rows = re.findall(r"^  (\S+)\s+(\S+)\s+\S.*$", output, flags=re.M)
    return {user: password for user, password in rows if user != "username"}


def test_demo_builds_a_realistic_organisation():
    output = run("demo")
    assert "Created the demo organisation" in output
    assert Team.objects.count() >= 3
    assert RegisteredModel.objects.count() >= 12
    assert ModelVersion.objects.count() >= 40
    # Every version got its own sequential number and an audit event from the service.
    for model in RegisteredModel.objects.all():
        numbers = list(model.versions.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert model.last_version_number == len(numbers)
    assert AuditEvent.objects.filter(action=Action.VERSION_REGISTERED).count() == (
        ModelVersion.objects.count()
    )
    assert AuditEvent.objects.filter(action=Action.MODEL_CREATED).count() == (
        RegisteredModel.objects.count()
    )


def test_demo_has_lineage_across_models_and_cards_of_varying_completeness():
    run("demo")
    across = VersionParent.objects.exclude(child__model=F("parent__model"))
    assert across.count() >= 3
    completeness = {card.completeness for card in ModelCard.objects.all()}
    assert 100 in completeness and 0 in completeness
    assert any(0 < c < 100 for c in completeness)
    states = [
        card.section_state(name)["status"]
        for card in ModelCard.objects.all()
        for name in card.filled_sections + card.inherited_sections
    ]
    assert {"edited", "confirmed", "inherited"} <= set(states)
    assert ModelVersion.objects.exclude(artifact="").exists()  # uploaded bytes
    assert ModelVersion.objects.exclude(artifact_uri="").exists()  # external URIs
    latency = (
        RegisteredModel.objects.get(name="card-fraud-scorer")
        .versions.get(number=1)
        .metrics.get(name="latency_p95_ms")
    )
    assert latency.higher_is_better is False


def signs_in(client, username: str, password: str) -> bool:
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302


def test_demo_creates_each_role_and_prints_working_logins(client):
    output = run("demo")
    logins = login_table(output)
    roles = dict(re.findall(r"^  (\S+)\s+\S+\s+(\S.*)$", output, flags=re.M))
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    scientist = User.objects.get(username="priya")
    assert roles["priya"].startswith("data scientist")
    assert scientist.teams.filter(name="Fraud & Risk").exists()
    # Two approvers of the walk's model, neither of them the data scientist.
    fraud_model = RegisteredModel.objects.get(name="card-fraud-scorer")
    search_model = RegisteredModel.objects.get(name="product-search-ranker")
    for username in ("grace", "tomas"):
        approver = User.objects.get(username=username)
        assert roles[username].startswith("approver")
        assert can_approve(approver, fraud_model, "production")
        assert not can_approve(approver, search_model, "production")
        assert not approver.teams.exists()
    assert not can_approve(scientist, fraud_model, "production")
    governance = User.objects.get(username="helen")
    assert "governance" in roles["helen"]
    assert governance.has_perm("approvals.assign_approvers")
    assert governance.has_perm("approvals.publish_policy")
    assert not scientist.has_perm("approvals.assign_approvers")
    auditor = User.objects.get(username="audrey")
    assert roles["audrey"].startswith("auditor")
    assert auditor.groups.filter(name="Auditors").exists()
    assert auditor.has_perm("audit.export_auditevent")
    assert not scientist.has_perm("audit.export_auditevent")
    # Every printed password signs its user in.
    for username in ("priya", "grace", "tomas", "helen", "audrey"):
        assert signs_in(client, username, logins[username]), username
        client.logout()
    assert "sign in as priya, open card-fraud-scorer v5 and request Production" in output


def test_demo_names_two_approvers_per_model_and_stage_three_ways():
    run("demo")
    for model in RegisteredModel.objects.select_related("owner"):
        for stage in ("staging", "production"):
            named = approver_ids(model, stage) - {model.owner_id}
            assert len(named) >= 2, (model.name, stage)
    grants = {
        name: grants_for(RegisteredModel.objects.get(name=name))
        for name in ("card-fraud-scorer", "product-search-ranker", "aml-transaction-monitor")
    }
    # Team-wide for Fraud & Risk, per model for the others, and one group.
    assert {(g.holder, g.team_wide) for g in grants["card-fraud-scorer"]} == {
        ("grace", True),
        ("tomas", True),
    }
    assert {(g.holder, g.team_wide) for g in grants["product-search-ranker"]} == {
        ("dmitri", False),
        ("nadia", False),
    }
    assert ("Model Risk Committee", True) in {
        (g.holder, g.is_group) for g in grants["aml-transaction-monitor"]
    }
    # The critical model's third production approver is in the group.
    aml = RegisteredModel.objects.get(name="aml-transaction-monitor")
    assert {u.username for u in approvers(aml, "production")} == {"grace", "tomas", "nadia"}
    # The governance user named them all, and each grant is in the audit log.
    granted = AuditEvent.objects.filter(action=ApprovalAction.APPROVER_GRANTED)
    assert granted.count() == 3 * (2 + 11 * 2 + 1)
    assert set(granted.values_list("actor__username", flat=True)) == {"helen"}


def test_every_model_has_a_risk_tier_and_every_stage_came_through_a_request():
    run("demo")
    tiers = list(RegisteredModel.objects.values_list("risk_tier", flat=True))
    assert set(tiers) == {"low", "medium", "high", "critical"}
    assert tiers.count("critical") == 1
    staged = ModelVersion.objects.exclude(stage="none")
    assert staged.count() >= 15
    for version in staged:
        last = StageChange.objects.filter(version=version).order_by("-id").first()
        assert last is not None and last.to_stage == version.stage, version
        assert TransitionRequest.objects.filter(pk=last.request_id).exists()
    stages = {
        (v.model.name, v.number): v.stage
        for v in ModelVersion.objects.select_related("model").exclude(stage="none")
    }
    # The older production version was archived when the newer one was promoted.
    assert stages[("card-fraud-scorer", 3)] == "archived"
    assert stages[("card-fraud-scorer", 4)] == "production"
    assert stages[("card-fraud-scorer", 5)] == "staging"
    assert stages[("document-ocr-extractor", 1)] == "archived"
    assert stages[("aml-transaction-monitor", 3)] == "production"
    assert RegisteredModel.objects.get(name="card-fraud-scorer").current_stage == "production"
    # The catalog shows a real mix of stages; at most one production version per model.
    assert {"staging", "production", "archived"} <= set(stages.values())
    productions = [name for (name, _), stage in stages.items() if stage == "production"]
    assert len(productions) == len(set(productions)) >= 6
    applied = TransitionRequest.objects.filter(state="applied")
    assert AuditEvent.objects.filter(action=ApprovalAction.APPLIED).count() == applied.count()


def test_demo_has_requests_waiting_in_every_state_a_reviewer_meets():
    output = run("demo")
    assert re.search(r"Approvals: \d+ transitions applied, 3 requests waiting, 1 rejected", output)
    requests = {
        (r.model.name, r.version.number, r.to_stage): r
        for r in TransitionRequest.objects.select_related("model", "version")
    }
    both = requests[("support-intent-classifier", 3, "production")]
    assert both.state == "open" and both.gates_passed and not both.reviews.exists()
    one = requests[("product-search-ranker", 3, "production")]
    assert one.state == "open" and one.gates_passed
    assert list(one.reviews.values_list("reviewer__username", flat=True)) == ["dmitri"]
    blocked = requests[("home-feed-recommender", 2, "production")]
    assert blocked.state == "blocked" and not blocked.gates_passed
    assert "Card: Evaluation data: empty" in blocked.blocked_reason
    rejected = requests[("reply-suggestion-generator", 2, "staging")]
    assert rejected.state == "rejected" and rejected.closed_by.username == "dmitri"
    assert "evaluation data" in rejected.close_comment
    # Waiting requests are in the inboxes of the approvers who can still act on them.
    nadia = User.objects.get(username="nadia")
    dmitri = User.objects.get(username="dmitri")
    assert {both.pk, one.pk} <= {r.pk for r in inbox(nadia)[0].rows}
    assert both.pk in {r.pk for r in inbox(dmitri)[0].rows}


def test_the_readme_walk_takes_the_ready_version_to_production():
    """The README's two-minute walk, through the services the pages call."""
    run("demo")
    priya, grace, tomas = (User.objects.get(username=u) for u in ("priya", "grace", "tomas"))
    model = RegisteredModel.objects.get(name="card-fraud-scorer")
    version = model.versions.get(number=5)
    request = transition_request(
        actor=priya,
        version=version,
        to_stage="production",
        reason="Shadow scoring of 2.1.0 matched 2.0.0 with fewer false declines.",
    )
    assert request.gates_passed, [g for g in request.gate_results if not g["passed"]]
    assert request.pk in {r.pk for r in inbox(grace)[0].rows}
    review_approve(actor=grace, request=request, comment="Gates pass; deltas look right.")
    review_approve(actor=tomas, request=request)
    stages = dict(model.versions.values_list("number", "stage"))
    assert stages[5] == "production" and stages[4] == "archived"
    event = AuditEvent.objects.get(action=ApprovalAction.APPLIED, object_id=str(request.pk))
    assert event.changes["requester"] == "priya"
    assert [a["user"] for a in event.changes["approvers"]] == ["grace", "tomas"]
    assert event.changes["archived_version"] == 4


def test_running_demo_twice_changes_nothing():
    run("demo")
    counts = (
        Team.objects.count(),
        RegisteredModel.objects.count(),
        ModelVersion.objects.count(),
        AuditEvent.objects.count(),
        User.objects.count(),
    )
    output = run("demo")
    assert "already exists" in output
    assert counts == (
        Team.objects.count(),
        RegisteredModel.objects.count(),
        ModelVersion.objects.count(),
        AuditEvent.objects.count(),
        User.objects.count(),
    )


def test_demo_does_not_reset_an_existing_admin_password(client):
    User.objects.create_superuser("admin", "a@example.com", "my-own-password-123")
    output = run("demo")
    assert "existing account, unchanged" in output
    assert signs_in(client, "admin", "my-own-password-123")


def test_rundemo_migrates_loads_the_demo_and_serves_it(tmp_path):
    """The README's quick start, end to end, on a fresh SQLite file in a temporary folder."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")}
    env.update(DEBUG="1", MODELGATE_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(server, f"http://127.0.0.1:{port}/", timeout=120)
        assert "Created the demo organisation" in output
        assert re.search(r"Chain intact: \d+ events checked", output)
        assert re.search(r"^\s+priya\s+modelgate-demo\s+data scientist", output, re.M)
        response = wait_for_http(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)
        assert response.status == 200
        assert b"Sign in to Modelgate" in response.read()
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_until(process, marker: str, timeout: float) -> str:
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("rundemo never printed its URL:\n" + "".join(lines))


def wait_for_http(url: str, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
