"""Every response carries a strict Content-Security-Policy and the other security headers,
and the documented production settings pass `check --deploy` without a warning."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def pages(client, member, version):
    """(name, response) of HTML pages, a JSON API answer, the docs page and a 404."""
    anonymous = [("login", client.get("/accounts/login/"))]
    client.force_login(member)
    version_page = reverse("registry:version_detail", args=[version.model.name, version.number])
    return anonymous + [
        ("catalog", client.get(reverse("registry:catalog"))),
        ("version", client.get(version_page)),
        ("api", client.get("/api/models/")),
        ("api docs", client.get("/api/docs/")),
        ("not found", client.get("/no-such-page/")),
    ]


def test_every_response_has_a_csp_without_inline_code(pages):
    assert [response.status_code for _, response in pages] == [200, 200, 200, 200, 200, 404]
    for name, response in pages:
        policy = directives(response)
        assert policy["default-src"] == ["'self'"], name
        for directive in ("script-src", "style-src"):
            assert policy[directive] == ["'self'"], (name, directive)
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], name
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert policy["form-action"] == ["'self'"], name


def test_no_page_can_be_framed(pages):
    for name, response in pages:
        assert directives(response)["frame-ancestors"] == ["'none'"], name
        assert response["X-Frame-Options"] == "DENY", name


def test_referrers_stay_on_the_site(pages):
    for name, response in pages:
        assert response["Referrer-Policy"] == "same-origin", name


def test_devices_and_sensors_are_denied(pages):
    for name, response in pages:
        features = dict(
            item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
        )
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features.get(feature) == "()", (name, feature)


def test_the_api_docs_page_has_no_inline_script_and_serves_its_start_up_script(client, member):
    client.force_login(member)
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert not re.search(r"<script[^>]*>\s*[^<\s]", html), "inline script on the docs page"
    assert "<style" not in html
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert "/api/schema/" in script.content.decode()


def readme_production_environment() -> str:
    """The `export` lines of the README's production example, as a shell snippet."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running against PostgreSQL", 1)[1]
    block = section.split("```", 2)[1]
    exports = [line for line in block.splitlines() if line.startswith("export ")]
    assert exports, "the README's production section sets no variables"
    return "\n".join(exports)


def test_deploy_check_is_silent_with_the_documented_production_settings(tmp_path):
    """The README promises `check --deploy` reports nothing with its production example;
    run exactly those `export` lines (CSP and Permissions-Policy middleware included)."""
    script = (
        "set -e\n"
        + readme_production_environment()
        + f'\nexec "{sys.executable}" manage.py check --deploy --fail-level WARNING\n'
    )
    test_only = (
        *("DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"),
        *("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"),
    )
    env = {k: v for k, v in os.environ.items() if k not in test_only and not k.startswith("AWS")}
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**env, "MODELGATE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output.upper(), output
