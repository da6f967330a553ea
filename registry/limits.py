"""Size and count limits on what people and pipelines send, from settings.

Every limit is a setting with a documented default (README, "Configuration"). The
checks raise Django's ValidationError keyed by the field, so a form shows it next to
the field and the API answers 400 with it under `errors`. Forms and serializers call
them to refuse early; the services call them again as the last line.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError


def markdown_size_message(value: str) -> str | None:
    """Why `value` is too large to keep as Markdown, or None. Measured in UTF-8 bytes."""
    size = len((value or "").encode("utf-8", "surrogatepass"))
    limit = settings.MARKDOWN_MAX_BYTES
    if size <= limit:
        return None
    return f"Keep this under {limit:,} bytes of Markdown ({limit / 1000:,.0f} kB); it is {size:,}."


def validate_markdown_size(value: str) -> None:
    """A field validator (forms, serializers) for one Markdown text: a description, a
    purpose, release notes or one model card section."""
    message = markdown_size_message(value)
    if message:
        raise ValidationError(message, code="too_large")


def check_markdown_sizes(texts: Mapping[str, str]) -> None:
    """Service check of several Markdown fields at once: {field: text}."""
    errors = {}
    for field, text in texts.items():
        message = markdown_size_message(text)
        if message:
            errors[field] = [message]
    if errors:
        raise ValidationError(errors)


def check_count(field: str, count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ValidationError({field: [f"At most {limit:,} {what}; this would make {count:,}."]})


def check_length(field: str, value: str, limit: int, what: str) -> None:
    if len(value or "") > limit:
        raise ValidationError({field: [f"{what} is at most {limit:,} characters long."]})
