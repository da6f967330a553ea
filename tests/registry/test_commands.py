"""The demo and synth management commands."""

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

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelCard, ModelVersion, RegisteredModel, Team, VersionParent
from registry.names import name_key
from registry.search import CatalogQuery, catalog_search

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
    logins = login_table(run("demo"))
    assert {"admin", "priya", "grace", "audrey"} <= set(logins)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    scientist = User.objects.get(username="priya")
    assert scientist.teams.filter(name="Fraud & Risk").exists()
    approver = User.objects.get(username="grace")
    fraud_model = RegisteredModel.objects.get(name="card-fraud-scorer")
    search_model = RegisteredModel.objects.get(name="product-search-ranker")
    assert approver.has_perm("registry.approve_production_registeredmodel", fraud_model)
    assert not approver.has_perm("registry.approve_production_registeredmodel", search_model)
    auditor = User.objects.get(username="audrey")
    assert auditor.groups.filter(name="Auditors").exists()
    assert auditor.has_perm("audit.export_auditevent")
    assert not scientist.has_perm("audit.export_auditevent")
    # The printed password signs the user in.
    assert signs_in(client, "priya", logins["priya"])


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


def test_synth_creates_the_requested_catalog():
    output = run("synth", "--models", "50", "--versions-per-model", "3", "--batch-size", "20")
    assert "Created 50 models, 150 versions" in output
    models = RegisteredModel.objects.filter(created_by__username="synth-loader")
    assert models.count() == 50
    assert ModelVersion.objects.filter(model__in=models).count() == 150
    assert ModelCard.objects.filter(version__model__in=models).count() == 150
    for model in models:
        versions = list(model.versions.order_by("number"))
        assert [v.number for v in versions] == [1, 2, 3]
        assert len({v.label for v in versions}) == 3
        assert model.last_version_number == 3
        assert model.latest_framework == versions[-1].framework
        assert model.current_stage == "none"
        assert model.tags.exists()
        assert {v.stage for v in versions} == {"none"}
        # Bulk-loaded names are keyed like registered ones, so look-alikes still collide.
        assert model.name_key == name_key(model.name)
    # One audit event summarises the whole load.
    bulk = AuditEvent.objects.filter(object_type="bulk")
    assert bulk.count() == 1
    assert bulk.get().action == Action.CATALOG_BULK_LOADED
    assert bulk.get().changes["synthetic_models"] == 50


def test_synthetic_lineage_is_acyclic_and_matches_the_count_it_reports():
    output = run("synth", "--models", "60", "--versions-per-model", "4", "--batch-size", "25")
    links = list(VersionParent.objects.select_related("child", "parent"))
    assert f"metrics and {len(links)} lineage links" in output
    within = [e for e in links if e.child.model_id == e.parent.model_id]
    across = [e for e in links if e.child.model_id != e.parent.model_id]
    assert within and across  # 180 retrains at 30% and 59 first versions at 10%
    # Newer from older inside a model; across models, a first version from an older model.
    assert all(e.child.number == e.parent.number + 1 for e in within)
    assert all(e.child.number == 1 and e.parent.model_id < e.child.model_id for e in across)
    bulk = AuditEvent.objects.get(object_type="bulk")
    assert bulk.changes["synthetic_lineage_links"] == len(links)


def test_synthetic_models_are_searchable_by_name():
    run("synth", "--models", "50", "--versions-per-model", "3")
    model = RegisteredModel.objects.filter(created_by__username="synth-loader").last()
    result = catalog_search(CatalogQuery.from_params({"q": model.name}))
    assert model.pk in [m.pk for m in result.page.object_list]


def test_synth_twice_adds_models_without_name_clashes():
    run("synth", "--models", "30", "--versions-per-model", "2")
    run("synth", "--models", "30", "--versions-per-model", "2", "--seed", "1")
    assert RegisteredModel.objects.filter(created_by__username="synth-loader").count() == 60
    assert AuditEvent.objects.filter(object_type="bulk").count() == 2


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
