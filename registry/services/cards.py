from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.actions import Action
from audit.services import event_record

from ..choices import CARD_SECTION_NAMES
from ..models import ModelCard
from ..permissions import require_edit_model
from ..search import search_refresh

MAX_SECTION_CHARS = 50_000


@transaction.atomic
def card_update(*, actor, card: ModelCard, sections: Mapping[str, str]) -> ModelCard:
    """Replace the given card sections (Markdown). Unknown sections are rejected; the
    audit event records each changed section's old and new text."""
    card = ModelCard.objects.select_for_update().select_related("version__model").get(pk=card.pk)
    require_edit_model(actor, card.version.model)
    unknown = sorted(set(sections) - set(CARD_SECTION_NAMES))
    if unknown:
        raise ValidationError({name: ["Not a model card section."] for name in unknown})
    too_long = [n for n, text in sections.items() if len(text or "") > MAX_SECTION_CHARS]
    if too_long:
        raise ValidationError(
            {n: [f"Keep each section under {MAX_SECTION_CHARS:,} characters."] for n in too_long}
        )
    diff = {}
    for name, text in sections.items():
        text = (text or "").replace("\r\n", "\n")
        if getattr(card, name) != text:
            diff[name] = [getattr(card, name), text]
            setattr(card, name, text)
    if not diff:
        return card
    card.updated_by = actor
    card.save()
    search_refresh(card.version.model)
    event_record(
        actor=actor,
        action=Action.CARD_UPDATED,
        version=card.version,
        object_type="card",
        object_id=card.pk,
        changes={**diff, "completeness": card.completeness},
    )
    return card
