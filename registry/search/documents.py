"""The catalog's search document and vector.

Each model carries `search_text` (name, description, purpose, tags, team and the text
of its newest version's card). On PostgreSQL a weighted `search_vector` is stored from
it and indexed with GIN (migration 0002); on SQLite the catalog falls back to a
case-insensitive substring match on `search_text` (documented in the README).
"""

from collections.abc import Iterable

from django.contrib.postgres.search import SearchVector
from django.db import connection

from ..models import ModelCard, RegisteredModel

SEARCH_CONFIG = "english"
# The search document: large, and read by the catalog's SQL only, never by a page.
HEAVY_MODEL_FIELDS = ("search_text", "search_vector")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def search_document(model: RegisteredModel, *, tags: Iterable[str], card_text: str) -> str:
    parts = [
        model.name,
        model.name.replace("-", " ").replace("_", " ").replace(".", " "),
        model.team.name,
        " ".join(tags),
        model.description,
        model.purpose,
        card_text,
    ]
    return "\n".join(p for p in parts if p)


def search_refresh(model: RegisteredModel) -> None:
    """Recompute one model's search text (and vector on PostgreSQL)."""
    tags = list(model.tags.values_list("name", flat=True))
    card = ModelCard.objects.filter(version__model=model).order_by("-version__number").first()
    text = search_document(model, tags=tags, card_text=card.text() if card else "")
    RegisteredModel.objects.filter(pk=model.pk).update(search_text=text)
    model.search_text = text
    if is_postgres():
        refresh_vectors(RegisteredModel.objects.filter(pk=model.pk))


def refresh_vectors(queryset) -> int:
    """Rebuild the stored search vector from name (weight A) and search text (B)."""
    if not is_postgres():
        return 0
    return queryset.update(
        search_vector=SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("search_text", weight="B", config=SEARCH_CONFIG)
    )
