"""Pages fit their window at 1400 px, 1024 px and on a 390 px phone: long names wrap, and
wide tables (the catalog, a comparison, a Markdown table in a model card, the audit log)
scroll inside their own box instead of widening the page."""

import pytest

from .conftest import TIMEOUT_MS, screenshot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 98 characters without a space or a hyphen: nothing a browser would break a line at.
LONG_NAME = (
    "enterprise_customer_lifetime_value.predictor_for_small_business_"
    "accounts_in_emea_and_apac_2024q3v2"
)
LONG_TEAM = "Enterprise Customer Lifetime Value, Retention and Small Business Growth Analytics"
LONG_TAGS = [
    "customer-lifetime-value-small-business-x",
    "retention-propensity-and-churn-modelling",
    "gradient-boosted-decision-trees-ensemble",
]
WIDE_TABLE = "\n".join(
    [
        "| " + " | ".join(f"Slice {i} of the evaluation" for i in range(10)) + " |",
        "|" + "---|" * 10,
        "| " + " | ".join(f"auc=0.{80 + i} recall=0.{60 + i}" for i in range(10)) + " |",
        "| " + " | ".join(f"last-column-{i}" for i in range(10)) + " |",
    ]
)
WIDTHS = {
    "desktop-1400": {"viewport": {"width": 1400, "height": 900}},
    "laptop-1024": {"viewport": {"width": 1024, "height": 768}},
    "phone-390": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    },
}


@pytest.fixture
def wide_model(admin_user, member, make_version):
    from registry.services import card_update, model_create, team_create, team_member_add

    team = team_create(actor=admin_user, name=LONG_TEAM)
    team_member_add(actor=admin_user, team=team, user=member)
    model = model_create(
        actor=member,
        name=LONG_NAME,
        team=team,
        owner=member,
        description="Predicts " + "lifetime-value " * 30,
        purpose="Prioritise account managers' time.",
        license="Apache-2.0 AND BSD-3-Clause AND MIT",
        data_classification="confidential",
        evaluation_coverage="Every region and segment.",
        risk_tier="medium",
        tags=LONG_TAGS,
    )
    for build in (1, 2):
        version = make_version(
            model,
            label=f"2.{build}.0-rc.{build}.enterprise-customer-lifetime-value-nightly-build-20240901",
            framework="xgboost",
            artifact_uri="s3://ml-artifacts-enterprise-customer-analytics/"
            + "lifetime_value_predictor/" * 6
            + f"build-{build}/model.ubj",
            hyperparameters={
                "feature_interaction_constraints_for_the_small_business_segment": "[["
                + ",".join(str(i) for i in range(60 * build))
                + "]]",
                "max_depth": 6 + build,
            },
            metrics=[
                {
                    "name": "area_under_the_precision_recall_curve_small_business_emea",
                    "value": 0.7 + build / 100,
                    "dataset": "holdout_2024q3_small_business_accounts_with_full_history",
                },
            ],
        )
        card_update(
            actor=member,
            card=version.card,
            sections={
                "intended_use": "See https://wiki.example.com/"
                + "customer-lifetime-value/" * 8
                + f"\n\n{WIDE_TABLE}\n",
                "model_details": "Trained on `" + "x" * 150 + "`.",
            },
        )
    return model


def page_urls(model):
    from urllib.parse import quote

    base = f"/models/{quote(model.name)}/"
    return {
        "catalog": "/",
        "model": base,
        "version": base + "v/2/",
        "compare": base + "compare/?a=1&b=2",
        "audit": f"/audit/?model={quote(model.name)}",
    }


# The wide parts of each page: each must fit, or scroll inside its own box.
BOXES = {
    "catalog": ["#catalog-results"],
    "model": ["#versions table", "#model-history table"],
    "version": ["#section-intended_use .markdown table", "#params table"],
    "compare": ["#compare-metadata table", "#compare-params table", "#compare-metrics table"],
    "audit": ["#audit-events"],
}

PAGE_FITS = """(width) => {
    const wide = [...document.querySelectorAll("body *")].filter((el) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= width + 1) return false;
        // Inside a box that scrolls sideways: that box is checked on its own.
        for (let p = el.parentElement; p; p = p.parentElement) {
            if (["auto", "scroll"].includes(getComputedStyle(p).overflowX)) return false;
        }
        return true;
    });
    return {
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        wide: wide.slice(0, 5).map((el) => el.tagName + "." + el.className + "#" + el.id),
    };
}"""

# The box that scrolls sideways for `el` (el itself or its nearest scrolling ancestor),
# scrolled to its end: is its last column then inside the box, and the box in the window?
REACHABLE = """(el) => {
    let box = el;
    while (box && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) {
        box = box.parentElement;
    }
    const fits = el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right
        <= window.innerWidth + 1;
    if (!box || box === document.documentElement || box === document.body) {
        return {fits, scrolls: false};
    }
    box.scrollLeft = box.scrollWidth;
    const row = el.querySelector("tr");
    const cells = row.children;
    const last = cells[cells.length - 1].getBoundingClientRect();
    const b = box.getBoundingClientRect();
    return {
        fits,
        scrolls: true,
        needsScrolling: box.scrollWidth > box.clientWidth + 1,
        boxInWindow: b.left >= -1 && b.right <= window.innerWidth + 1,
        lastColumnShown: last.right <= b.right + 1 && last.right > b.left,
    };
}"""


@pytest.mark.parametrize("size", list(WIDTHS))
def test_pages_fit_the_window_and_wide_tables_scroll_in_their_box(
    browser, live_server, wide_model, admin_user, password, size
):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **WIDTHS[size])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    width = WIDTHS[size]["viewport"]["width"]
    try:
        signed_in(page, admin_user, password)
        scrolled = []
        for name, url in page_urls(wide_model).items():
            page.goto(url)
            fit = page.evaluate(PAGE_FITS, width)
            screenshot(page, f"layout-{name}-{size}")
            # A phone widens its layout viewport (innerWidth) to fit a page that is too
            # wide, so the page is held to the device's width too.
            assert fit["scrollWidth"] <= fit["innerWidth"] == width, (name, fit)
            for selector in BOXES[name]:
                box = page.locator(selector).first
                state = box.evaluate(REACHABLE)
                assert state["fits"] or state["scrolls"], (name, selector, state)
                if state["scrolls"]:
                    assert state["boxInWindow"] and state["lastColumnShown"], (name, selector)
                    if state["needsScrolling"]:
                        scrolled.append(f"{name} {selector}")
            # The long model name wraps (or is cut with the full name on hover).
            for el in page.get_by_text(LONG_NAME, exact=True).all():
                if el.is_visible():
                    cut = el.evaluate("(e) => e.scrollWidth > e.clientWidth + 1")
                    assert not cut or el.get_attribute("title") == LONG_NAME, (name, size)
        if size == "phone-390":
            # The test is only worth something if the phone really had to scroll them.
            for expected in ("catalog", "version", "audit"):
                assert any(s.startswith(expected) for s in scrolled), (expected, scrolled)
    finally:
        context.close()
