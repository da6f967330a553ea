"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Without /usr/bin/chromium the tests skip with a reason, unless MODELGATE_REQUIRE_BROWSER=1
(CI), where a missing browser is a failure. Playwright's own browser downloads are never
used.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("MODELGATE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG under tests/browser/screenshots/ (gitignored) for a person to look at.

    Pages with sticky elements are better taken as the viewport (full_page=False): a
    full-page capture draws them where the page happened to be scrolled."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def signed_in(page, user, password: str):
    """Sign `user` in through the login form; returns the page on the catalog."""
    page.goto("/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


@pytest.fixture
def catalog(admin_user, team, other_team, member, outsider, make_model, make_version):
    """A small organisation built through the services, like the demo's.

    fraud-scorer (team Fraud Detection) has two versions whose metrics and cards differ;
    churn-predictor belongs to the same team; search-ranker to Search Ranking.
    """
    from registry.services import card_update, model_create, version_register

    fraud = make_model(
        name="fraud-scorer",
        description="Scores card payments for fraud risk with gradient-boosted trees.",
        tags=["fraud", "payments", "tabular"],
    )
    v1 = make_version(
        fraud,
        label="1.0.0",
        framework="xgboost",
        hyperparameters={"max_depth": 6, "eta": 0.1},
        metrics=[
            {"name": "auc", "value": 0.81, "dataset": "holdout"},
            {"name": "latency_p95_ms", "value": 40.0, "higher_is_better": False},
        ],
    )
    card_update(
        actor=member,
        card=v1.card,
        sections={
            "model_details": "Gradient-boosted trees over 240 payment features.",
            "intended_use": "Review risky card payments at checkout.",
        },
    )
    v2 = make_version(
        fraud,
        label="1.1.0",
        framework="xgboost",
        hyperparameters={"max_depth": 8, "eta": 0.1},
        metrics=[
            {"name": "auc", "value": 0.86, "dataset": "holdout"},
            {"name": "latency_p95_ms", "value": 35.0, "higher_is_better": False},
        ],
    )
    card_update(
        actor=member,
        card=v2.card,
        sections={"intended_use": "Approve, review or decline card payments at checkout."},
    )
    churn = make_model(
        name="churn-predictor",
        description="Predicts which subscribers cancel in the next 30 days.",
        purpose="Target retention offers.",
        license="MIT",
        data_classification="internal",
        tags=["churn", "tabular"],
    )
    make_version(churn, label="0.1.0", framework="lightgbm")
    ranker = model_create(
        actor=outsider,
        name="search-ranker",
        team=other_team,
        owner=outsider,
        description="LambdaMART ranking of product search results.",
        purpose="Order the first page of search results.",
        license="Apache-2.0",
        data_classification="internal",
        evaluation_coverage="Judged queries, head and tail slices.",
        risk_tier="medium",
        tags=["search", "ranking"],
    )
    version_register(
        actor=outsider,
        model=ranker,
        label="3.0.0",
        framework="lightgbm",
        artifact_uri="s3://models/search-ranker/3.0.0/model.txt",
        metrics=[{"name": "ndcg@10", "value": 0.71, "dataset": "judged"}],
    )
    return {"fraud": fraud, "v1": v1, "v2": v2, "churn": churn, "ranker": ranker}
