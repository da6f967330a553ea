from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..audit_actions import Action
from ..choices import CARD_SECTION_NAMES, SectionStatus
from ..errors import CardChanged
from ..fixed_sql import columns, fetch_one
from ..limits import markdown_size_message
from ..models import EMPTY_SECTION_STATE, ModelCard, ModelVersion
from ..permissions import require_edit_model
from ..search import search_refresh
from .events import field_diff, log_event


def _check_sections(sections: Mapping[str, str], confirm: Iterable[str]) -> None:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(sections) - set(CARD_SECTION_NAMES)):
        errors[name] = ["Not a model card section."]
    unknown_confirms = sorted(set(confirm) - set(CARD_SECTION_NAMES))
    if unknown_confirms:
        errors["confirm"] = [f"Not a model card section: {n}." for n in unknown_confirms]
    for name, text in sections.items():
        text = text or ""
        if markdown_size_message(text):  # MARKDOWN_MAX_BYTES per section
            errors[name] = [markdown_size_message(text)]
        elif "\x00" in text:
            errors[name] = ["Remove the NUL character; a section holds Markdown text."]
        else:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                errors[name] = ["Remove the unpaired surrogate; it is not valid Unicode text."]
    if errors:
        raise ValidationError(errors)


def previous_card_sql(model_id: str, *, below: str = "") -> str:
    """A SELECT of the card of the newest version (numbered below `below`, if given)
    that has one, of the model `model_id` names, followed by that version's number;
    both arguments are SQL expressions. Fixed SQL: on every registration, and the ORM
    took longer to build it than the database to run it."""
    below = f" AND v.number < {below}" if below else ""
    return (
        f"SELECT {_previous_card_columns().sql}, v.number FROM {ModelCard._meta.db_table} c "
        f"JOIN {ModelVersion._meta.db_table} v ON v.id = c.version_id "
        f"WHERE v.model_id = {model_id}{below} ORDER BY v.number DESC LIMIT 1"
    )


def previous_card_from_row(row, start: int = 0) -> tuple[ModelCard | None, int | None]:
    """The card and version number of a `previous_card_sql` row (its columns from
    `start`), or (None, None) for none (an outer join's NULLs)."""
    if row is None or row[start + len(_previous_card_columns())] is None:
        return None, None
    return _previous_card_columns().instance(row, start), row[-1]


def _previous_card_columns():
    return columns(ModelCard, "c", ("version_id", "updated_by_id", "updated_at"))


def _previous_card(version: ModelVersion) -> tuple[ModelCard | None, int | None]:
    """The card of the model's newest version before `version`, and that version's
    number."""
    row = fetch_one(previous_card_sql("%s", below="%s"), [version.model_id, version.number])
    return previous_card_from_row(row)


def card_inherited(
    *, version: ModelVersion, previous: tuple[ModelCard | None, int | None] | None = None
) -> ModelCard:
    """`version`'s card, not saved yet: a copy of its predecessor's, each section marked
    as inherited from that version and not yet reviewed for this one (so it does not
    count towards completeness until someone confirms or edits it). Called by
    version_register, inside its transaction and audit event, which saves it with the
    version. `previous` is the predecessor's card and number when the caller has read
    them already (None: read them here)."""
    previous, number = _previous_card(version) if previous is None else previous
    if previous is None:
        return ModelCard(version=version)
    provenance = {}
    for name in CARD_SECTION_NAMES:
        before = previous.section_state(name)
        provenance[name] = {
            **EMPTY_SECTION_STATE,
            "edited_for": before["edited_for"],
            "edited_by": before["edited_by"],
            "edited_at": before["edited_at"],
            "inherited_from": number,
        }
    return ModelCard(
        version=version,
        provenance=provenance,
        **{name: getattr(previous, name) for name in CARD_SECTION_NAMES},
    )


@transaction.atomic
def card_update(
    *,
    actor,
    card: ModelCard,
    sections: Mapping[str, str],
    confirm: Iterable[str] = (),
    revision: int | None = None,
) -> ModelCard:
    """Replace the given sections' Markdown and confirm the `confirm` sections (keep
    their text, mark it reviewed for this version).

    `revision` is the card revision the caller's edit started from: if the card has
    moved on since, nothing is written and CardChanged carries the current card. The
    check and the write happen under the card's row lock, so of two saves that started
    from the same revision exactly one wins. (None skips the check; only for callers
    that own the card, like the demo builder.)

    A section whose text changes becomes edited for this version by `actor`; unchanged
    text keeps its state. Each saved change bumps the revision and writes one audit
    event with every changed section's old and new text and the confirmed sections.
    """
    confirm = list(dict.fromkeys(confirm))
    if card.pk is None:  # a version whose card row was never made (not through services)
        ModelCard.objects.get_or_create(version=card.version)
    card = (
        ModelCard.objects.select_for_update(of=("self",))
        .select_related("version__model__team")
        .get(version_id=card.version_id)
    )
    version = card.version
    require_edit_model(actor, version.model)
    if revision is not None and revision != card.revision:
        raise CardChanged(
            f"Someone else saved the card of {version.model.name} v{version.number} "
            f"(now revision {card.revision}, your edit started from revision {revision}).",
            card=card,
        )
    _check_sections(sections, confirm)
    now = timezone.now().isoformat()
    provenance = {name: card.section_state(name) for name in CARD_SECTION_NAMES}
    texts = {name: (text or "").replace("\r\n", "\n") for name, text in sections.items()}
    diff = field_diff(card, texts)
    for name in diff:
        provenance[name] = {
            **EMPTY_SECTION_STATE,
            "status": SectionStatus.EDITED.value,
            "edited_for": version.number,
            "edited_by": actor.pk,
            "edited_at": now,
        }
    confirmed = []
    empty = []
    for name in confirm:
        if name in diff or provenance[name]["status"] != SectionStatus.INHERITED:
            continue  # already written or reviewed for this version
        if not getattr(card, name).strip():
            empty.append(name)
            continue
        provenance[name].update(
            status=SectionStatus.CONFIRMED.value, confirmed_by=actor.pk, confirmed_at=now
        )
        confirmed.append(name)
    if empty:
        raise ValidationError(
            {"confirm": [f"{n}: the section is empty; write it instead." for n in empty]}
        )
    if not diff and not confirmed:
        return card
    old_revision = card.revision
    card.provenance = provenance
    card.revision = old_revision + 1
    card.updated_by = actor
    card.save()
    if diff:
        search_refresh(version.model)
    log_event(
        card,
        Action.CARD_UPDATED,
        actor=actor,
        changes={
            **diff,
            **({"confirmed": confirmed} if confirmed else {}),
            "revision": [old_revision, card.revision],
            "completeness": card.completeness,
        },
    )
    return card
