"""Every page of the app runs under the Content-Security-Policy with nothing refused.

Chromium reports each refused script, style, image, frame or connection both as a
`securitypolicyviolation` event and as a console error; either fails the test, as does
an uncaught script error. Each page's own script is then exercised, so a script that
was moved to a static file (or silently blocked) shows up as a behaviour that is gone.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from registry.services import card_update

from .conftest import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before the page's own scripts (Playwright injects it through
# the DevTools protocol, so the CSP does not apply to it).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""
CSP_CONSOLE = re.compile(r"Content Security Policy|Content-Security-Policy|Permissions.Policy")


class Watcher:
    """Collects CSP violations, policy console errors and script errors of a page."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message):
        if CSP_CONSOLE.search(message.text):
            self.problems.append(f"console {message.type}: {message.text}")

    def visit(self, url: str, *, status: int = 200):
        response = self.page.goto(url)
        assert response.status == status, f"{url}: {response.status}"
        assert "Content-Security-Policy" in {k.title() for k in response.headers}, url
        self.check(url)
        return response

    def check(self, where: str):
        self.page.wait_for_load_state("load")
        self.problems += [
            f"{where}: {v}" for v in self.page.evaluate("window.__cspViolations || []")
        ]
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def watcher(page):
    return Watcher(page)


@pytest.fixture
def card_with_image(catalog, member):
    """A card whose Markdown has an external image: it must be a link, not a load."""
    card_update(
        actor=member,
        card=catalog["v2"].card,
        sections={"evaluation_data": "![holdout chart](https://tracker.example/pixel.gif)"},
    )
    return catalog["v2"]


def test_signed_out_pages_run_under_the_policy(watcher, page, catalog):
    watcher.visit(reverse("login"))
    expect(page.locator("#id_username")).to_be_visible()
    watcher.visit("/no-such-page/", status=404)
    # A signed-out visitor is sent to sign in from pages that need it.
    watcher.visit(reverse("registry:catalog"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_the_forbidden_page_runs_under_the_policy(watcher, page, catalog, outsider, password):
    signed_in(page, outsider, password)
    watcher.visit(reverse("registry:model_edit", args=["fraud-scorer"]), status=403)
    expect(page.locator("h1")).to_be_visible()


def test_catalog_model_and_version_pages_run_under_the_policy(
    watcher, page, catalog, card_with_image, member, password
):
    signed_in(page, member, password)
    watcher.check("sign-in")
    watcher.visit(reverse("registry:catalog"))
    expect(page.locator("#catalog-results .model-row")).to_have_count(3)

    # catalog.js applies a sort or a facet as soon as it changes.
    page.select_option("#sort", "name")
    expect(page).to_have_url(re.compile(r"[?&]sort=name"))
    watcher.check("catalog sorted")
    page.locator("#facet-team input[type=checkbox]").first.check()
    expect(page).to_have_url(re.compile(r"[?&]team="))
    watcher.check("catalog filtered")

    watcher.visit(reverse("registry:catalog") + "?q=fraud")
    expect(page.locator("#result-count")).to_contain_text("matching “fraud”")
    watcher.visit(reverse("registry:catalog") + "?q=nothing-matches-this")
    expect(page.locator("#no-results")).to_be_visible()

    watcher.visit(reverse("registry:model_detail", args=["fraud-scorer"]))
    expect(page.locator("#metrics svg").first).to_be_visible()
    expect(page.locator("#versions meter").first).to_be_visible()

    watcher.visit(reverse("registry:version_detail", args=["fraud-scorer", 2]))
    image = page.locator("#section-evaluation_data a.card-image")
    expect(image).to_have_text("Image: holdout chart (https://tracker.example/pixel.gif)")
    expect(page.locator("#section-evaluation_data img")).to_have_count(0)

    compare = reverse("registry:version_compare", args=["fraud-scorer"])
    watcher.visit(f"{compare}?a=1&b=2")
    expect(page.locator("#compare-metrics")).to_contain_text("auc")


def test_the_card_editor_meter_follows_typing_under_the_policy(
    watcher, page, catalog, member, password
):
    signed_in(page, member, password)
    watcher.visit(reverse("registry:card_edit", args=["fraud-scorer", 2]))
    meter = page.locator("#completeness-meter")
    text = page.locator("#completeness-text")
    sections = page.locator("#card-form textarea[data-card-section]")
    total = sections.count()
    filled = int(re.match(r"(\d+) of", text.inner_text()).group(1))
    empty = next(i for i in range(total) if not sections.nth(i).input_value().strip())

    # card-edit.js recounts on every keystroke: one more section, then one fewer.
    sections.nth(empty).fill("False declines hit good customers.")
    more = round(100 * (filled + 1) / total)
    expect(text).to_contain_text(f"{filled + 1} of {total} sections filled ({more}%)")
    expect(meter).to_have_js_property("value", more)
    sections.nth(empty).fill("   ")
    expect(text).to_contain_text(f"{filled} of {total} sections filled")
    expect(meter).to_have_js_property("value", round(100 * filled / total))
    watcher.check("card editor")


def test_the_watcher_catches_inline_code(watcher, page, catalog, member, password):
    """The guard itself: inline script and style injected into a page are refused and
    reported, so the other tests' silence means something."""
    signed_in(page, member, password)
    watcher.visit(reverse("registry:catalog"))
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.inlineRan = true";
          document.body.appendChild(s);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        }"""
    )
    assert page.evaluate("window.inlineRan === undefined")
    with pytest.raises(AssertionError, match="script-src-elem blocked inline"):
        watcher.check("injected")
    assert any("style-src-attr blocked inline" in p for p in watcher.problems)


def test_model_forms_and_tokens_run_under_the_policy(watcher, page, catalog, member, password):
    signed_in(page, member, password)
    watcher.visit(reverse("registry:model_create"))
    expect(page.locator("#model-form")).to_be_visible()
    watcher.visit(reverse("registry:model_edit", args=["fraud-scorer"]))
    expect(page.locator("#model-form")).to_be_visible()

    watcher.visit(reverse("token_list"))
    page.fill("#id_name", "nightly pipeline")
    page.locator("#id_name").press("Enter")
    new_token = page.locator("#new-token")
    expect(new_token).to_be_visible()
    watcher.check("token created")
    # tokens.js selects the whole secret when the field gets focus, ready to copy.
    new_token.focus()
    selected = page.evaluate(
        "() => { const f = document.getElementById('new-token');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected.startswith("mg_") and selected == new_token.input_value()

    page.get_by_role("link", name="Revoke nightly pipeline").click()
    expect(page.locator("#revoke-token")).to_be_visible()
    watcher.check("token revoke confirmation")
    page.click("#confirm-revoke")
    expect(page.locator("td", has_text="Revoked")).to_be_visible()
    watcher.check("token revoked")


def test_api_docs_render_under_the_policy(watcher, page, catalog, member, password):
    signed_in(page, member, password)
    watcher.visit("/api/docs/")
    # Swagger UI drew the operations from the schema: its start-up script ran.
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text("/api/models/")
    watcher.check("api docs")


def test_audit_log_and_admin_run_under_the_policy(watcher, page, catalog, admin_user, password):
    signed_in(page, admin_user, password)
    watcher.visit(reverse("audit:events"))
    expect(page.locator("#verification")).to_be_visible()

    watcher.visit(reverse("admin:index"))
    expect(page.locator("#site-name")).to_be_visible()
    for url in (
        reverse("admin:registry_registeredmodel_changelist"),
        reverse("admin:registry_registeredmodel_change", args=[catalog["fraud"].pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[admin_user.pk]),
        reverse("admin:auth_user_add"),
    ):
        watcher.visit(url)
    # The admin's own scripts work: the theme toggle switches to dark and back.
    page.locator("button.theme-toggle").first.click()
    expect(page.locator("html")).to_have_attribute("data-theme", re.compile("dark|light"))
    watcher.check("admin theme toggle")


def test_teams_pages_and_a_running_verification_run_under_the_policy(
    watcher, page, catalog, admin_user, team, password, celery_worker_later
):
    signed_in(page, admin_user, password)
    watcher.visit(reverse("teams:list"))
    expect(page.locator("#teams")).to_contain_text(team.name)
    watcher.visit(reverse("teams:detail", args=[team.slug]))
    expect(page.locator("#members")).to_contain_text("alice")

    # audit-verification.js polls the status (a fetch: connect-src) while it runs...
    watcher.visit(reverse("audit:events"))
    with page.expect_response(lambda r: r.url.endswith(reverse("audit:verification_status"))):
        page.click("#verify-now")
    watcher.check("verification running")
    # ...and reloads the page when a worker has done it.
    with celery_worker_later():
        expect(page.locator("#verification-result .chain-ok")).to_be_visible(timeout=30_000)
    watcher.check("verification done")
