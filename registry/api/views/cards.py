"""A version's model card, with optimistic concurrency (RFC 9110 ETag / If-Match).

GET answers the card with its ETag. PUT and PATCH must send that ETag in If-Match: a
write without it is refused (428), a write whose ETag is no longer current changes
nothing (412). The comparison happens under the card's row lock, in the service.
"""

from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...choices import CARD_SECTION_NAMES
from ...errors import CardChanged, RegistryError
from ...models import ModelCard
from ...permissions import require_edit_model
from ...selectors import card_for, card_sections, model_get, version_get
from ..errors import error_responses
from ..serializers.cards import CardSerializer, CardWriteSerializer
from .versions import VERSION_PATH


class PreconditionRequired(RegistryError):
    status_code = 428


class PreconditionFailed(RegistryError):
    status_code = 412


ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description="The card's entity tag; send it back in If-Match to change the card.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the card your change starts from (e.g. "card-12-r3"), or * '
    "to overwrite whatever the card holds now. Missing: 428; no longer current: 412, "
    "nothing changed (GET the card again, reapply your change, retry).",
)
WRITE_RESPONSES = {
    200: CardSerializer,
    412: OpenApiResponse(
        error_responses(412)[412],
        description="Someone changed the card since your ETag; nothing was written.",
    ),
    428: OpenApiResponse(error_responses(428)[428], description="If-Match is missing."),
    **error_responses(400, 403, 404),
}


def _card_response(request, card: ModelCard) -> Response:
    version = card.version
    data = {
        "model": version.model.name,
        "version": version.number,
        "revision": card.revision,
        "completeness": card.completeness,
        "complete": card.is_complete,
        "sections": {s.name: s for s in card_sections(card)},
    }
    response = Response(CardSerializer(data, context={"request": request}).data)
    response["ETag"] = card.etag
    return response


def _expected_revision(request, card: ModelCard) -> int | None:
    """The revision If-Match names (None for *), or a 428/412 error."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired(
            "Send the card's ETag in If-Match (GET the card to read it), so that a change "
            "someone else saved meanwhile is never overwritten."
        )
    tags = parse_etags(header)
    if tags == ["*"]:
        return None
    if len(tags) != 1:
        raise PreconditionFailed("If-Match must hold exactly one entity tag of this card.")
    prefix = f'"card-{card.pk}-r'
    tag = tags[0]
    if tag.startswith(prefix) and tag.endswith('"') and tag[len(prefix) : -1].isdigit():
        return int(tag[len(prefix) : -1])
    raise PreconditionFailed(
        f"If-Match {tag} is not an entity tag of this card; its current one is {card.etag}."
    )


class CardView(APIView):
    @extend_schema(
        operation_id="versions_card_retrieve",
        tags=["cards"],
        summary="Get a version's model card",
        parameters=[*VERSION_PATH, ETAG],
        responses={200: CardSerializer, **error_responses(404)},
    )
    def get(self, request, name, number):
        """Every section's Markdown and provenance: which version its text was last
        edited for and by whom, and whether it was inherited from an earlier version
        without review (such sections do not count towards completeness)."""
        version = version_get(model_get(name), number)
        return _card_response(request, card_for(version))

    @extend_schema(
        operation_id="versions_card_update",
        tags=["cards"],
        summary="Replace every section of the card",
        parameters=[*VERSION_PATH, IF_MATCH, ETAG],
        request=CardWriteSerializer,
        responses=WRITE_RESPONSES,
    )
    def put(self, request, name, number):
        """Send all sections; `confirm` marks inherited sections as reviewed."""
        return self._write(request, name, number, partial=False)

    @extend_schema(
        operation_id="versions_card_partial_update",
        tags=["cards"],
        summary="Change some sections of the card",
        parameters=[*VERSION_PATH, IF_MATCH, ETAG],
        request=CardWriteSerializer,
        responses=WRITE_RESPONSES,
    )
    def patch(self, request, name, number):
        """Send only the sections that change, and/or `confirm` to mark inherited sections
        as reviewed for this version. An empty body changes nothing."""
        return self._write(request, name, number, partial=True)

    def _write(self, request, name, number, *, partial: bool) -> Response:
        version = version_get(model_get(name), number)
        require_edit_model(request.user, version.model)
        card = card_for(version)
        revision = _expected_revision(request, card)
        body = CardWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        try:
            card = services.card_update(
                actor=request.user,
                card=card,
                sections={
                    n: text for n, text in body.validated_data.items() if n in CARD_SECTION_NAMES
                },
                confirm=body.validated_data.get("confirm", ()),
                revision=revision,
            )
        except CardChanged as exc:
            response = Response({"detail": exc.message}, status=status.HTTP_412_PRECONDITION_FAILED)
            response["ETag"] = exc.card.etag
            return response
        return _card_response(request, card)
