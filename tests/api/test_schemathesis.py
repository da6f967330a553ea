"""Schemathesis against a live server: every operation of the published schema, with
schema-valid and schema-violating data, every check (status codes, content types,
response bodies, acceptance of valid and rejection of invalid input, server errors), with
the configuration in schemathesis.toml.

A fixed seed and a few examples per operation keep it quick; bench/schemathesis.py is
the large run (README, "The API").
"""

import subprocess
import sys
from pathlib import Path

import pytest

from registry.models import DeploymentReport
from registry.services import deployment_target_create, token_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# The one documented allowance: semantic 400s on a few operations (see the file).
CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"


def test_the_api_keeps_the_promises_of_its_schema(
    live_server, make_model, make_version, member, admin_user, tmp_path
):
    model = make_model(name="fraud-scorer")
    make_version(model)
    make_version(model, artifact_uri="")  # v2 can still get an artifact
    # The model and target the deployment report examples name (the demo's model, as in
    # bench/schemathesis.py; registry.api.serializers.deployments).
    reported = make_model(name="card-fraud-scorer")
    for _ in range(3):
        make_version(reported)
    deployment_target_create(
        actor=admin_user,
        name="argo-prod-eu",
        environment="production",
        url="https://93.184.215.14/hooks",
        events=["test"],
    )
    _, secret = token_create(actor=member, name="schemathesis")
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/schema/?format=json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        "all",
        "--seed",
        "20261202",
        "--max-examples",
        "3",
        "--phases",
        "examples,fuzzing,stateful",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "60",
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Test cases:" in result.stdout
    # The deployment report operation was reached past its 404s: the documented example
    # (the target and model created above) was recorded.
    assert DeploymentReport.objects.filter(
        target__name="argo-prod-eu", model__name="card-fraud-scorer"
    ).exists()
