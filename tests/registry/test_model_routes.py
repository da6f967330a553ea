"""Model names and the registry's own pages never share a URL: any valid name, even one
spelt like a route word, reaches its model."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, reverse

from registry import urls as registry_urls
from registry.validators import validate_model_name

pytestmark = pytest.mark.django_db

ROUTE_WORDS = ["new", "edit", "compare", "v", "card", "artifact", "register"]


def test_no_fixed_route_sits_where_a_model_name_goes():
    """Under models/ the first segment is always the model name; a literal segment there
    would have to be something no model can be called."""
    for pattern in registry_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if not route.startswith("models/"):
            continue
        segment = route.split("/")[1]
        if segment.startswith("<"):
            continue
        with pytest.raises(ValidationError):
            validate_model_name(segment)


def test_the_create_form_is_outside_the_models_namespace():
    assert not reverse("registry:model_create").startswith("/models/")


@pytest.mark.parametrize("name", ROUTE_WORDS)
def test_a_model_named_like_a_route_word_is_reachable(
    client, member, make_model, make_version, name
):
    model = make_model(name=name, description=f"The model called {name}.")
    make_version(model)
    client.force_login(member)

    page = client.get(reverse("registry:model_detail", args=[name]))
    assert page.status_code == 200
    assert f"The model called {name}." in page.content.decode()
    edit = client.get(reverse("registry:model_edit", args=[name]))
    assert edit.status_code == 200
    assert f'value="{name}"' in edit.content.decode()
    version = client.get(reverse("registry:version_detail", args=[name, 1]))
    assert version.status_code == 200
    assert (
        f"The model called {name}."
        not in client.get(reverse("registry:model_create")).content.decode()
    )


def test_a_model_named_new_is_served_at_the_old_create_address(client, member, make_model):
    make_model(name="new", description="Scores new customers.")
    client.force_login(member)
    response = client.get("/models/new/")
    assert response.status_code == 200
    assert "Scores new customers." in response.content.decode()


def test_an_old_bookmark_of_the_create_form_still_leads_to_it(client, member):
    client.force_login(member)
    response = client.get("/models/new/", follow=True)
    assert response.redirect_chain == [(reverse("registry:model_create"), 302)]
    assert 'id="model-form"' in response.content.decode()
    # Only that one old address: other unknown names stay 404.
    assert client.get("/models/newer/").status_code == 404


def test_a_trailing_newline_is_not_part_of_a_valid_name():
    with pytest.raises(ValidationError):
        validate_model_name("fraud-scorer\n")
