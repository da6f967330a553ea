"""Every API error is JSON with a message a person can act on and the right status."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_a_json_404(api):
    response = api.get("/api/nothing-here/")
    assert response.status_code == 404
    assert "/api/docs/" in response.json()["detail"]


def test_a_missing_trailing_slash_is_pointed_out_not_redirected(api, team):
    response = api.post("/api/models", {"name": "x"})
    assert response.status_code == 404
    assert "end with a slash" in response.json()["detail"]


def test_a_json_body_over_the_upload_limit_is_a_413(api, model, settings, snapshot):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    before = snapshot()
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {"label": "1.0.0", "framework": "onnx", "release_notes": "x" * 500},
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert snapshot() == before


def test_an_unsupported_method_is_a_json_405(api, model):
    response = api.delete(f"/api/models/{model.name}/")
    assert response.status_code == 405
    assert response.json()["detail"] == 'Method "DELETE" not allowed.'


def test_an_unsupported_body_type_is_a_json_415(api, model):
    response = api.post(
        f"/api/models/{model.name}/versions/", "label=1.0.0", content_type="text/plain"
    )
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]
