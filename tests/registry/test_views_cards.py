"""The model card editor: saving, completeness, provenance and edits that cross."""

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.choices import CARD_SECTION_NAMES
from registry.models import ModelCard
from registry.services import card_update

pytestmark = pytest.mark.django_db


def editor(version) -> str:
    return reverse("registry:card_edit", args=[version.model.name, version.number])


def page_of(version) -> str:
    return reverse("registry:version_detail", args=[version.model.name, version.number])


def form_data(client, version) -> dict:
    """What the browser would post: the form as the editor page renders it now."""
    form = client.get(editor(version)).context["form"]
    data = {name: form[name].value() or "" for name in CARD_SECTION_NAMES}
    data.update(revision=form["revision"].value(), base=form["base"].value())
    return data


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def colleague(django_user_model, admin_user, team):
    from registry.services import team_member_add

    user = django_user_model.objects.create_user("carol", "carol@example.com", "pw")
    team_member_add(actor=admin_user, team=team, user=user)
    return user


def test_the_editor_has_a_labelled_textarea_per_section(signed_in, version, member):
    card_update(actor=member, card=version.card, sections={"intended_use": "Checkout <risk>."})
    html = signed_in.get(editor(version)).content.decode()
    for name in CARD_SECTION_NAMES:
        assert f'id="id_{name}"' in html
        assert f'<label for="id_{name}">' in html
    assert "Checkout &lt;risk&gt;.</textarea>" in html
    assert "1 of 9 sections filled (11%)" in html
    assert '<input type="hidden" name="revision" value="2"' in html
    assert '<button type="submit" class="primary" id="save-card">Save card</button>' in html


def test_the_editor_page_has_no_inline_script_or_style_handlers(signed_in, version):
    html = signed_in.get(editor(version)).content.decode()
    assert "<script>" not in html
    assert "/static/js/card-edit.js" in html
    assert " onclick=" not in html and " oninput=" not in html


def test_saving_updates_the_card_and_its_completeness(signed_in, version):
    data = form_data(signed_in, version)
    data.update({name: f"Text for {name}." for name in CARD_SECTION_NAMES[:6]})
    response = signed_in.post(editor(version), data, follow=True)
    assert response.redirect_chain[-1][0] == page_of(version)
    html = response.content.decode()
    assert "6 of 9 sections filled (67%)" in html
    assert "Text for training_data." in html
    version.card.refresh_from_db()
    assert version.card.completeness == 67
    assert version.card.revision == 2
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == 1


def test_a_full_card_is_complete(signed_in, version):
    data = {**form_data(signed_in, version), **{name: "Filled." for name in CARD_SECTION_NAMES}}
    response = signed_in.post(editor(version), data, follow=True)
    assert "9 of 9 sections filled (100%) · complete" in response.content.decode()


def test_emptying_a_section_lowers_completeness(signed_in, version):
    signed_in.post(editor(version), {**form_data(signed_in, version), "intended_use": "x",
                                     "training_data": "y"})  # fmt: skip
    signed_in.post(editor(version), {**form_data(signed_in, version), "training_data": "   "})
    version.card.refresh_from_db()
    assert version.card.filled_sections == ["intended_use"]


def test_an_oversized_section_is_refused_and_nothing_typed_is_lost(signed_in, version):
    huge = "a" * (settings.MARKDOWN_MAX_BYTES + 1)
    data = {**form_data(signed_in, version), "intended_use": "Kept text.", "training_data": huge}
    response = signed_in.post(editor(version), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The card was not saved." in html
    limit = settings.MARKDOWN_MAX_BYTES
    assert f"Keep this under {limit:,} bytes of Markdown" in html
    assert "Kept text.</textarea>" in html
    assert huge in html
    version.card.refresh_from_db()
    assert version.card.intended_use == ""
    assert not AuditEvent.objects.filter(action=Action.CARD_UPDATED).exists()


def test_a_post_without_the_revision_it_started_from_is_refused(signed_in, version):
    response = signed_in.post(editor(version), {"intended_use": "Blind write."})
    assert response.status_code == 200
    assert "The card was not saved." in response.content.decode()
    version.card.refresh_from_db()
    assert version.card.intended_use == ""


# --- Two people editing the same card -------------------------------------------------------
def test_a_stale_save_is_refused_showing_both_texts_and_keeping_the_users(
    client, member, colleague, version
):
    client.force_login(member)
    mine = form_data(client, version)  # alice opens the editor...
    card_update(  # ...carol saves first
        actor=colleague,
        card=version.card,
        sections={"intended_use": "Carol: review payments over 500 EUR."},
        revision=1,
    )
    mine["intended_use"] = "Alice: block payments flagged twice."
    response = client.post(editor(version), mine)

    assert response.status_code == 409
    html = response.content.decode()
    assert "someone else saved this card while you were editing it" in html
    conflict = html[html.index('id="conflict-intended_use"') :]
    assert conflict.index("Carol: review payments over 500 EUR.") < conflict.index(
        "Alice: block payments flagged twice."
    )
    assert "Saved meanwhile by carol" in html
    assert "Alice: block payments flagged twice.</textarea>" in html
    assert '<input type="hidden" name="revision" value="2"' in html
    card = ModelCard.objects.get(version=version)
    assert card.intended_use == "Carol: review payments over 500 EUR."
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == 1


def test_saving_again_after_a_conflict_writes_on_top_of_the_new_revision(
    client, member, colleague, version
):
    client.force_login(member)
    mine = form_data(client, version)
    card_update(actor=colleague, card=version.card, sections={"intended_use": "Carol."})
    mine["intended_use"] = "Alice."
    retry = client.post(editor(version), mine).context["form"]
    again = {name: retry[name].value() for name in CARD_SECTION_NAMES}
    again.update(revision=retry["revision"].value(), base=retry["base"].value())

    response = client.post(editor(version), again)
    assert response.status_code == 302
    card = ModelCard.objects.get(version=version)
    assert card.intended_use == "Alice."
    assert card.revision == 3


def test_a_section_only_the_other_person_changed_keeps_their_text(
    client, member, colleague, version
):
    client.force_login(member)
    mine = form_data(client, version)
    card_update(actor=colleague, card=version.card, sections={"training_data": "Carol's data."})
    mine["intended_use"] = "Alice's use."
    response = client.post(editor(version), mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert '<div class="conflict"' not in html  # nothing to choose between
    assert "They changed only sections you did not touch" in html
    form = response.context["form"]
    assert form["training_data"].value() == "Carol's data."
    assert form["intended_use"].value() == "Alice's use."


# --- Inherited sections and provenance ------------------------------------------------------
def test_a_new_versions_card_is_inherited_and_counts_only_reviewed_sections(
    signed_in, member, model, make_version
):
    v1 = make_version(model)
    card_update(
        actor=member,
        card=v1.card,
        sections={name: f"v1 {name}." for name in CARD_SECTION_NAMES},
    )
    v2 = make_version(model)
    html = signed_in.get(page_of(v2)).content.decode()
    assert "0 of 9 sections filled (0%)" in html
    assert "9 sections</span> inherited from an earlier version" in html
    assert html.count("Inherited from v1, not yet reviewed for this version") == 9

    data = form_data(signed_in, v2)
    data.update(confirm_intended_use="on", training_data="v2 data.")
    response = signed_in.post(editor(v2), data, follow=True)
    html = response.content.decode()
    assert "2 of 9 sections filled (22%)" in html
    assert html.count("Inherited from v1, not yet reviewed for this version") == 7
    card = ModelCard.objects.get(version=v2)
    assert card.intended_use == "v1 intended_use."
    assert card.section_state("intended_use")["status"] == "confirmed"
    event = AuditEvent.objects.filter(action=Action.CARD_UPDATED).order_by("-sequence")[0]
    assert event.changes["confirmed"] == ["intended_use"]
    assert event.changes["training_data"] == ["v1 training_data.", "v2 data."]


def test_the_version_page_shows_who_last_edited_each_section_for_which_version(
    signed_in, member, colleague, model, make_version
):
    v1 = make_version(model)
    card_update(actor=member, card=v1.card, sections={"intended_use": "Checkout."})
    v2 = make_version(model)
    card_update(actor=colleague, card=v2.card, sections={"training_data": "2025 payments."})
    card_update(actor=colleague, card=v2.card, sections={}, confirm=["intended_use"])

    html = signed_in.get(page_of(v2)).content.decode()
    section = html[html.index('id="section-intended_use"') :]
    section = section[: section.index("</section>")]
    assert "Reviewed for v2</span> by carol" in section
    assert "Last edited for v1 by alice" in section
    section = html[html.index('id="section-training_data"') :]
    section = section[: section.index("</section>")]
    assert "Written for v2" in section
    assert "Last edited for v2 by carol" in section


def test_confirming_an_empty_section_is_refused(signed_in, member, model, make_version):
    make_version(model)
    v2 = make_version(model)
    data = {**form_data(signed_in, v2), "confirm_intended_use": "on"}
    response = signed_in.post(editor(v2), data)
    assert response.status_code == 200
    assert "the section is empty; write it instead" in response.content.decode()
