"""Every write under /api/ takes the body types its schema lists (JSON; multipart where an
artifact file is uploaded) and answers any other with the 415 the schema documents, in the
error shape, changing nothing."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from approvals.services import transition_request
from audit.models import AuditEvent

from .payloads import BOUNDARY

pytestmark = pytest.mark.django_db

REASON = "Retired in favour of the new scorer."


def _operations_with_a_body() -> list[tuple[str, str, str, list[str]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (operation["operationId"], method, path, sorted(operation["requestBody"]["content"]))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


OPERATIONS = _operations_with_a_body()


@pytest.fixture
def filed(member, version):
    return transition_request(actor=member, version=version, to_stage="archived", reason=REASON)


def test_an_empty_multipart_patch_of_a_version_is_a_415_and_changes_nothing(api, version):
    """What schemathesis found: a multipart body with no parts was taken as an empty
    change (200) on an operation documented as JSON only."""
    before = AuditEvent.objects.count()
    response = api.generic(
        "PATCH",
        f"/api/models/{version.model.name}/versions/1/",
        f"--{BOUNDARY}--\r\n",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "multipart/form-data; boundary=modelgate-test-'
        'boundary" in request. Send the body as application/json.'
    }
    assert AuditEvent.objects.count() == before


def test_a_json_patch_of_a_version_still_edits_the_release_notes(api, version):
    response = api.patch(
        f"/api/models/{version.model.name}/versions/1/",
        {"release_notes": "Retrained on Q3."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    version.refresh_from_db()
    assert version.release_notes == "Retrained on Q3."


@pytest.mark.parametrize(
    "operation, method, path, accepted", OPERATIONS, ids=[op[0] for op in OPERATIONS]
)
def test_a_form_encoded_body_is_a_documented_415(
    api, version, filed, snapshot, operation, method, path, accepted
):
    url = (
        path.replace("{name}", version.model.name)
        .replace("{number}", str(version.number))
        .replace("{id}", str(filed.pk))
    )
    # A card write checks its precondition first (a 412), so it gets the current tag.
    headers = {"HTTP_IF_MATCH": api.get(url)["ETag"]} if "card" in operation else {}
    before = snapshot()
    response = api.generic(
        method.upper(),
        url,
        "release_notes=x&comment=y&reason=z",
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    assert response.status_code == 415, response.content
    detail = response.json()["detail"]
    assert response.json() == {"detail": detail}
    assert '"application/x-www-form-urlencoded"' in detail
    assert all(media_type in detail for media_type in accepted), detail
    assert snapshot() == before


def test_the_schema_documents_the_415_of_every_operation_that_takes_a_body(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if "requestBody" in operation:
                unsupported = operation["responses"]["415"]["content"]["application/json"]
                assert unsupported["schema"] == {"$ref": "#/components/schemas/Error"}, path
