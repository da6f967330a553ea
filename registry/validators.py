"""Validators for the shared metadata standard; used by models, forms and the API."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from license_expression import ExpressionError, get_spdx_licensing

# Model names: 1-100 characters, letters, digits, '.', '_' and '-', starting with a
# letter or digit. A name is one URL path segment (models/<name>/...), and nothing in it
# can spell a route of its own: no '/', '+', '?', '#', '%' or whitespace (\Z, unlike $,
# refuses a trailing newline). Uniqueness ignores case ("Fraud-Scorer" and
# "fraud-scorer" clash).
MODEL_NAME_RE = r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z"
validate_model_name = RegexValidator(
    MODEL_NAME_RE,
    "Use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.",
    code="invalid_name",
)

# Model version aliases (MLflow's rules, with a shorter limit): 1-64 letters, digits, '_'
# or '-', starting with a letter or digit. "latest" (any case) and "v<digits>" ("v1",
# "V12") are refused: MLflow reads them as version references (models:/name/latest,
# v1), so such an alias could never be resolved. 64 and not MLflow's 255: an alias is a
# word a person says ("champion"), and it appears in URLs and on pages.
ALIAS_NAME_MAX_CHARS = 64
ALIAS_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]*\Z")
VERSION_REF_RE = re.compile(r"\A[vV][0-9]+\Z")


def validate_alias_name(value: str) -> None:
    if not value:
        raise ValidationError("Give the alias a name.", code="required")
    if len(value) > ALIAS_NAME_MAX_CHARS:
        raise ValidationError(
            "An alias name is at most %(limit)d characters; this one has %(length)d.",
            params={"limit": ALIAS_NAME_MAX_CHARS, "length": len(value)},
            code="max_length",
        )
    if not ALIAS_NAME_RE.match(value):
        raise ValidationError(
            "An alias name uses letters, digits, '_' or '-', starting with a letter or digit.",
            code="invalid_alias",
        )
    if value.lower() == "latest":
        raise ValidationError(
            "'latest' is reserved (it means the newest version); choose another alias name.",
            code="reserved_alias",
        )
    if VERSION_REF_RE.match(value):
        raise ValidationError(
            "%(value)r reads as a version reference (v<number>); choose an alias name that "
            "does not look like one.",
            params={"value": value},
            code="reserved_alias",
        )


# Semantic Versioning 2.0.0, the regex published at semver.org.
SEMVER_RE = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
validate_semver = RegexValidator(
    SEMVER_RE, "Use a semantic version such as 1.0.0 or 2.1.0-rc.1.", code="invalid_label"
)

# A full git commit id: 40 hex digits (SHA-1) or 64 (SHA-256 repositories).
validate_commit_sha = RegexValidator(
    r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$",
    "Give the full commit SHA: 40 (or 64) lowercase hexadecimal characters.",
    code="invalid_commit",
)

validate_sha256 = RegexValidator(
    r"^[0-9a-f]{64}$",
    "A SHA-256 digest is 64 lowercase hexadecimal characters.",
    code="invalid_sha256",
)

# Lone UTF-16 surrogates: a Python str may hold them (json.loads("\"\\ud800\"")), UTF-8 cannot.
SURROGATE_RE = re.compile("[\ud800-\udfff]")

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

ARTIFACT_URI_SCHEMES = ("s3", "gs", "azure", "abfss", "hdfs", "https", "http", "file", "models")


# validate_artifact_uri as a pattern (schemes in any case), for the API schema.
validate_artifact_uri_pattern = RegexValidator(
    "^(?:"
    + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in scheme)
        for scheme in ARTIFACT_URI_SCHEMES
    )
    + ")://[^\\u0000]+$",
    "Artifact URIs look like s3://bucket/path or https://host/path.",
    code="invalid_uri",
)
# A tag as sent: the service lowercases it before checking TAG_RE.
validate_tag_as_sent = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$",
    "Tags are 1-40 letters, digits or '-'.",
    code="invalid_tag",
)


def validate_tag(value: str) -> None:
    if not TAG_RE.match(value):
        raise ValidationError(
            "Tags are 1-40 lowercase letters, digits or '-': %(tag)r is not.",
            params={"tag": value},
            code="invalid_tag",
        )


def normalize_license(value: str) -> str:
    """Return the canonical spelling of an SPDX expression, or 'proprietary'."""
    value = (value or "").strip()
    if value.lower() == "proprietary":
        return "proprietary"
    if not value:
        raise ValidationError("Give an SPDX license identifier or 'proprietary'.", code="required")
    # Not Licensing.validate(): it crashes on the very errors it should report
    # ("MIT/X11", "MIT AND"), reading an attribute ExpressionError does not have.
    try:
        parsed = get_spdx_licensing().parse(value, validate=True, strict=True)
    except ExpressionError:  # ExpressionParseError included
        parsed = None
    if parsed is None:
        raise ValidationError(
            "%(value)r is not an SPDX license identifier (see spdx.org/licenses) or 'proprietary'.",
            params={"value": value},
            code="invalid_license",
        )
    return str(parsed)


def validate_license(value: str) -> None:
    normalize_license(value)


def validate_artifact_uri(value: str) -> None:
    scheme, sep, rest = value.partition("://")
    if not sep or not rest or scheme.lower() not in ARTIFACT_URI_SCHEMES:
        raise ValidationError(
            "Artifact URIs look like s3://bucket/path or https://host/path; allowed schemes: "
            + ", ".join(ARTIFACT_URI_SCHEMES)
            + ".",
            code="invalid_uri",
        )


def unstorable_text_reason(value: str) -> str | None:
    """Why PostgreSQL would refuse to store `value` as text, or None if it can.

    A NUL character is refused by text and jsonb columns alike, and a lone UTF-16
    surrogate (possible in JSON, as "\\ud800") cannot be encoded at all.
    """
    if "\x00" in value:
        return "Contains a NUL character (U+0000), which cannot be stored; remove it."
    if SURROGATE_RE.search(value):
        return (
            "Contains a lone UTF-16 surrogate (U+D800-U+DFFF), which is not valid text; "
            "send the character as a proper pair or as UTF-8."
        )
    return None
