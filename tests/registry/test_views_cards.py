"""The model card editor."""

import pytest
from django.urls import reverse

from audit.actions import Action
from audit.models import AuditEvent
from registry.choices import CARD_SECTION_NAMES
from registry.services.cards import MAX_SECTION_CHARS

pytestmark = pytest.mark.django_db


def editor(version) -> str:
    return reverse("registry:card_edit", args=[version.model.name, version.number])


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


def test_the_editor_has_a_labelled_textarea_per_section(signed_in, version, member):
    from registry.services import card_update

    card_update(actor=member, card=version.card, sections={"intended_use": "Checkout <risk>."})
    html = signed_in.get(editor(version)).content.decode()
    for name in CARD_SECTION_NAMES:
        assert f'id="id_{name}"' in html
        assert f'<label for="id_{name}">' in html
    assert "Checkout &lt;risk&gt;.</textarea>" in html
    assert "1 of 9 sections filled (11%)" in html
    assert '<button type="submit" class="primary" id="save-card">Save card</button>' in html


def test_saving_updates_the_card_and_its_completeness(signed_in, version):
    sections = {name: f"Text for {name}." for name in CARD_SECTION_NAMES[:6]}
    response = signed_in.post(editor(version), sections, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "registry:version_detail", args=[version.model.name, version.number]
    )
    html = response.content.decode()
    assert "6 of 9 sections filled (67%)" in html
    assert "Text for training_data." in html
    version.card.refresh_from_db()
    assert version.card.completeness == 67
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == 1


def test_a_full_card_is_complete(signed_in, version):
    response = signed_in.post(
        editor(version), {name: "Filled." for name in CARD_SECTION_NAMES}, follow=True
    )
    assert "9 of 9 sections filled (100%) · complete" in response.content.decode()


def test_emptying_a_section_lowers_completeness(signed_in, version):
    signed_in.post(editor(version), {"intended_use": "x", "training_data": "y"})
    signed_in.post(editor(version), {"intended_use": "x", "training_data": "   "})
    version.card.refresh_from_db()
    assert version.card.filled_sections == ["intended_use"]


def test_an_oversized_section_is_refused_and_nothing_typed_is_lost(signed_in, version):
    huge = "a" * (MAX_SECTION_CHARS + 1)
    response = signed_in.post(
        editor(version), {"intended_use": "Kept text.", "training_data": huge}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The card was not saved." in html
    assert f"Keep each section under {MAX_SECTION_CHARS:,} characters." in html
    assert "Kept text.</textarea>" in html
    assert huge in html
    version.card.refresh_from_db()
    assert version.card.intended_use == ""
    assert not AuditEvent.objects.filter(action=Action.CARD_UPDATED).exists()
