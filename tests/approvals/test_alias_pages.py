"""Aliases on the pages: the model page lists them and lets the team set, move and delete
them; a protected alias's form files a request that the approver finds in their inbox."""

import pytest
from django.urls import reverse

from approvals.models import RequestKind, TransitionRequest
from registry.models import ModelAlias
from registry.services import alias_set

from .conftest import REASON

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _model_url(model) -> str:
    return reverse("registry:model_detail", args=[model.name])


def _set_url(model) -> str:
    return reverse("approvals:alias_set", args=[model.name])


def test_the_model_page_lists_aliases_with_their_versions(client, member, model, make_version):
    make_version(model)
    v2 = make_version(model)
    alias_set(actor=member, model=model, name="challenger", version=v2)
    client.force_login(member)

    page = _text(client.get(_model_url(model)))

    assert 'id="alias-challenger"' in page
    assert f'href="/models/{model.name}/v/2/">v2</a>' in page
    assert '<span class="badge alias">@challenger</span>' in page  # in the versions table
    assert 'id="alias-form"' in page  # the team may set one


def test_outsiders_see_the_aliases_but_no_form(client, member, outsider, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    client.force_login(outsider)

    page = _text(client.get(_model_url(model)))

    assert 'id="alias-challenger"' in page
    assert 'id="alias-form"' not in page and 'id="delete-alias-challenger"' not in page
    response = client.post(_set_url(model), {"name": "shadow", "version": 1})
    assert response.status_code == 403
    assert not ModelAlias.objects.filter(name="shadow").exists()


def test_setting_an_alias_from_the_page_lists_it(client, member, model, make_version):
    make_version(model), make_version(model)
    client.force_login(member)

    response = client.post(_set_url(model), {"name": "challenger", "version": 1}, follow=True)

    assert response.redirect_chain[-1][0] == _model_url(model) + "#aliases"
    page = _text(response)
    assert "challenger now points at v1." in page
    assert 'id="alias-challenger"' in page
    # Setting it again moves it.
    client.post(_set_url(model), {"name": "challenger", "version": 2})
    assert ModelAlias.objects.get(name="challenger").version.number == 2


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "latest", "version": 1}, "name", "reserved"),
        ({"name": "v2", "version": 1}, "name", "version reference"),
        ({"name": "challenger", "version": 9}, "version", "has no version 9"),
        ({"name": "", "version": 1}, "name", "required"),
    ],
)
def test_a_bad_alias_is_shown_on_the_form_and_nothing_changes(
    client, member, model, version, data, field, message
):
    client.force_login(member)

    response = client.post(_set_url(model), data)

    assert response.status_code == 400
    page = _text(response)
    assert f'id="field-{field}"' in page and message in page
    assert not ModelAlias.objects.exists()


def test_a_protected_alias_files_a_request_and_says_where_it_went(
    client, member, approver, model, ready_version
):
    client.force_login(member)

    response = client.post(
        _set_url(model), {"name": "champion", "version": 1, "reason": REASON}, follow=True
    )

    request = TransitionRequest.objects.get(kind=RequestKind.ALIAS)
    assert response.redirect_chain[-1][0] == reverse("approvals:request", args=[request.pk])
    page = _text(response)
    assert f"request #{request.pk} is filed" in page
    assert f"{model.name}@champion to v1" in page
    assert not ModelAlias.objects.exists()
    # The approver finds it in their inbox, saying which alias.
    client.force_login(approver)
    inbox = _text(client.get(reverse("approvals:inbox")))
    assert f'id="waiting-{request.pk}"' in inbox
    assert 'Alias <strong class="alias-name">champion</strong>' in inbox


def test_a_protected_alias_without_a_reason_asks_for_one(client, member, model, ready_version):
    client.force_login(member)

    response = client.post(_set_url(model), {"name": "champion", "version": 1})

    assert response.status_code == 400
    assert "Say why" in _text(response)
    assert not TransitionRequest.objects.exists()


def test_deleting_from_the_page(client, member, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    client.force_login(member)

    response = client.post(
        reverse("approvals:alias_delete", args=[model.name]), {"name": "challenger"}, follow=True
    )

    assert "The alias challenger is deleted." in _text(response)
    assert 'id="alias-challenger"' not in _text(response)
    assert not ModelAlias.objects.exists()


def test_a_protected_alias_has_no_delete_button_and_refuses_deletion(
    client, member, settings, model, version
):
    settings.MODELGATE_PROTECTED_ALIASES = []
    alias_set(actor=member, model=model, name="champion", version=version)
    settings.MODELGATE_PROTECTED_ALIASES = ["champion"]
    client.force_login(member)

    page = _text(client.get(_model_url(model)))
    assert 'id="alias-champion"' in page and "protected</span>" in page
    assert 'id="delete-alias-champion"' not in page
    response = client.post(
        reverse("approvals:alias_delete", args=[model.name]), {"name": "champion"}, follow=True
    )
    assert "cannot be deleted" in _text(response)
    assert ModelAlias.objects.filter(name="champion").exists()


def test_the_version_page_shows_its_aliases(client, member, model, version):
    alias_set(actor=member, model=model, name="challenger", version=version)
    alias_set(actor=member, model=model, name="shadow", version=version)
    client.force_login(member)

    page = _text(client.get(reverse("registry:version_detail", args=[model.name, 1])))

    assert (
        '<span class="badge alias">@challenger</span> <span class="badge alias">@shadow</span>'
        in (page)
    )
