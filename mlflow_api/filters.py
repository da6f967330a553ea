"""MLflow's search filter and order_by grammar, translated to querysets.

Filters are comparisons joined by AND (case-insensitive), e.g.
    name LIKE 'fraud-%' AND tags.team = 'fraud-detection' AND tags.`gpu` = ''
Identifiers: `name`, `tags.<key>` (backquote a key with odd characters) for registered
models; for model versions also `run_id`, `version_number` and `source_path`.
Operators: = and != everywhere, LIKE and ILIKE on text, IN (...) on name and run_id,
< <= > >= on version_number. Anything else is refused with a message.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import IRegex, Lookup, Regex

from registry.models import ModelVersion, RegisteredModel, Tag

from .errors import invalid
from .tags import MODEL_FIELD_TAGS, VERSION_FIELD_TAGS

TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
    | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|[A-Za-z_][\w.\-]*))
    )""",
    re.VERBOSE,
)
WORD_OPS = {"LIKE", "ILIKE", "IN", "AND", "NOT"}


@dataclass(frozen=True)
class Comparison:
    field: str  # "name", "run_id", "version_number", "source_path" or "tags.<key>"
    op: str
    value: object  # str, int or a tuple for IN


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise invalid(f"Invalid filter at {text[pos : pos + 30]!r}.")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "ident" and value.upper() in WORD_OPS:
            kind, value = "op", value.upper()
        out.append((kind, value))
    return out


def _unquote(token: str) -> str:
    quote = token[0]
    body = token[1:-1].replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def parse_filter(text: str | None, *, fields: tuple[str, ...]) -> list[Comparison]:
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    comparisons, i = [], 0
    while i < len(tokens):
        if i:
            if tokens[i] != ("op", "AND"):
                raise invalid(
                    f"Invalid filter {text!r}: join comparisons with AND (OR is not supported)."
                )
            i += 1
        if i + 2 >= len(tokens):
            raise invalid(f"Invalid filter {text!r}: a comparison is incomplete.")
        kind, ident = tokens[i]
        if kind != "ident":
            raise invalid(f"Invalid filter {text!r}: expected a field name, got {ident!r}.")
        field = _field(ident, fields)
        kind, op = tokens[i + 1]
        if kind != "op" or op in ("AND", "(", ")", ","):
            raise invalid(f"Invalid filter {text!r}: expected an operator after {ident}.")
        op = {"<>": "!="}.get(op, op)
        if op == "NOT":
            raise invalid("NOT is not supported in filters; use !=.")
        i += 2
        if op == "IN":
            values, i = _in_list(tokens, i, text)
            comparisons.append(Comparison(field, op, values))
            continue
        kind, raw = tokens[i]
        i += 1
        if kind == "string":
            value: object = _unquote(raw)
        elif kind == "number":
            value = raw
        else:
            raise invalid(f"Invalid filter {text!r}: compare {ident} with a quoted value.")
        comparisons.append(Comparison(field, op, value))
    return comparisons


def _in_list(tokens, i, text) -> tuple[tuple[str, ...], int]:
    if i >= len(tokens) or tokens[i] != ("op", "("):
        raise invalid(f"Invalid filter {text!r}: IN takes a list such as ('a', 'b').")
    values, i = [], i + 1
    while i < len(tokens):
        kind, raw = tokens[i]
        if kind not in ("string", "number"):
            break
        values.append(_unquote(raw) if kind == "string" else raw)
        i += 1
        if i < len(tokens) and tokens[i] == ("op", ","):
            i += 1
            continue
        break
    if i >= len(tokens) or tokens[i] != ("op", ")") or not values:
        raise invalid(f"Invalid filter {text!r}: IN takes a list such as ('a', 'b').")
    return tuple(values), i + 1


def _field(ident: str, fields: tuple[str, ...]) -> str:
    head, dot, key = ident.partition(".")
    if dot and head.lower() in ("tags", "tag"):
        key = key.strip("`")
        if not key:
            raise invalid("Give a tag key after 'tags.'.")
        return f"tags.{key}"
    name = ident.strip("`").lower()
    if name not in fields:
        raise invalid(
            f"Invalid filter field {ident!r}: filter on {', '.join(fields)} or tags.<key>."
        )
    return name


MAX_PATTERN_CHARS = 500


def _checked_pattern(pattern: str) -> str:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise invalid(f"A LIKE pattern is at most {MAX_PATTERN_CHARS} characters.")
    return re.sub("%+", "%", pattern)


def like_regex(pattern: str) -> str:
    """A LIKE pattern as an anchored regular expression; runs of % are one .*, so no
    pattern is too complex for a regex engine."""
    out = []
    for ch in _checked_pattern(pattern):
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "^" + "".join(out) + "$"


def like_matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    return re.match(like_regex(pattern), value, re.I | re.S if ignore_case else re.S) is not None


class MlflowLike(Lookup):
    """MLflow's LIKE: % is any run of characters, _ one character, nothing escapes them,
    and case matters. On PostgreSQL it is SQL's own LIKE (a backslash escaped as the
    literal it is here), which the trigram index and the name index serve (registry
    migration 0016); a regular expression would make PostgreSQL test every name.
    Elsewhere the same pattern as an anchored regex (SQLite's LIKE ignores case)."""

    ignore_case = False

    def __init__(self, field: str, pattern: str):
        super().__init__(F(field), Value(_checked_pattern(pattern)))

    def as_sql(self, compiler, connection):
        regex = (IRegex if self.ignore_case else Regex)(self.lhs, like_regex(self.rhs.value))
        return compiler.compile(regex)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.lhs)
        operator = "ILIKE" if self.ignore_case else "LIKE"
        return f"{lhs}::text {operator} %s", (*lhs_params, self.rhs.value.replace("\\", "\\\\"))


class MlflowILike(MlflowLike):
    """MLflow's ILIKE: LIKE ignoring case."""

    ignore_case = True


def _text_q(lookup: str, c: Comparison, *, allowed=("=", "!=", "LIKE", "ILIKE", "IN")) -> Q:
    if c.op not in allowed:
        raise invalid(f"Operator {c.op} is not supported on {c.field}; use {', '.join(allowed)}.")
    if c.op == "IN":
        return Q(**{f"{lookup}__in": [str(v) for v in c.value]})
    value = str(c.value)
    if c.op == "=":
        return Q(**{lookup: value})
    if c.op == "!=":
        return ~Q(**{lookup: value})
    return Q((MlflowLike if c.op == "LIKE" else MlflowILike)(lookup, value))


NOTHING = Q(pk__in=[])
MODEL_TAG_LOOKUPS = {
    "team": "team__slug",
    "owner": "owner__username",
    **{k: k for k in MODEL_FIELD_TAGS[2:]},
}


def _plain_tag_q(c: Comparison, key: str | None) -> Q:
    """A Modelgate tag is an MLflow tag whose value is "". A model without the tag has
    no value to compare: only != matches it (so MLflow 3's own filter
    tags.`mlflow.prompt.is_prompt` != 'true' keeps every model). `key` None: a key no
    row ever has."""
    if c.op not in ("=", "!=", "LIKE", "ILIKE"):
        raise invalid(f"Operator {c.op} is not supported on tags; use =, !=, LIKE or ILIKE.")
    if c.op == "!=":
        if str(c.value) != "":
            return Q()
        tagged_matches = False
    elif c.op == "=":
        tagged_matches = str(c.value) == ""
    else:
        tagged_matches = like_matches(str(c.value), "", ignore_case=c.op == "ILIKE")
    if key is None:
        return Q() if c.op == "!=" else NOTHING
    if connection.vendor == "postgresql":
        # The model's own copy of its tag names, under a GIN index (registry 0014): no
        # join, and PostgreSQL can AND it with the name indexes.
        tagged = Q(tag_list__contains=[key])
    else:  # SQLite's JSON has no containment
        tagged = Q(
            pk__in=Tag.models.through.objects.filter(tag__name=key).values("registeredmodel_id")
        )
    if c.op == "!=":
        return ~tagged
    return tagged if tagged_matches else NOTHING


def model_filter_q(comparisons: list[Comparison]) -> Q:
    q = Q()
    for c in comparisons:
        if c.field == "name":
            q &= _text_q("name", c)
        else:
            key = c.field[len("tags.") :]
            if key in MODEL_TAG_LOOKUPS:
                q &= _text_q(MODEL_TAG_LOOKUPS[key], c, allowed=("=", "!=", "LIKE", "ILIKE"))
            else:
                q &= _plain_tag_q(c, key)
    return q


def version_filter_q(comparisons: list[Comparison]) -> Q:
    q = Q()
    for c in comparisons:
        if c.field == "name":
            q &= _text_q("model__name", c)
        elif c.field == "run_id":
            q &= _text_q("run_id", c, allowed=("=", "!=", "IN"))
        elif c.field == "source_path":
            q &= _text_q("artifact_uri", c, allowed=("=", "!=", "LIKE", "ILIKE"))
        elif c.field == "version_number":
            q &= _number_q(c)
        else:
            key = c.field[len("tags.") :]
            if key in VERSION_FIELD_TAGS:
                q &= _text_q(key, c, allowed=("=", "!=", "LIKE", "ILIKE"))
            else:  # versions carry no other tag
                q &= _plain_tag_q(c, None)
    return q


NUMBER_OPS = {"=": "", "<": "__lt", "<=": "__lte", ">": "__gt", ">=": "__gte"}


def _number_q(c: Comparison) -> Q:
    if c.op == "IN":
        numbers = [_as_int(v) for v in c.value]
        return Q(number__in=numbers)
    if c.op != "!=" and c.op not in NUMBER_OPS:
        raise invalid(f"Operator {c.op} is not supported on version_number.")
    number = _as_int(c.value)
    if c.op == "!=":
        return ~Q(number=number)
    return Q(**{f"number{NUMBER_OPS[c.op]}": number})


def _as_int(value) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise invalid(f"version_number compares with a whole number, not {value!r}.") from None
    if not 0 <= number < 2**31:
        raise invalid(f"version_number {number} is out of range.")
    return number


# Names sort as the catalog shows them, ignoring case (the unique index on lower(name)).
MODEL_ORDER = {
    "name": "name_ci",
    "timestamp": "created_at",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}
VERSION_ORDER = {
    "name": "model_name_ci",
    "version_number": "number",
    "timestamp": "created_at",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "created_at",  # a version's facts never change
}


def order_fields(order_by: list[str], columns: dict[str, str], default: list[str]) -> list[str]:
    fields = []
    for item in order_by:
        parts = str(item).split()
        if not parts or len(parts) > 2 or parts[0].lower() not in columns:
            raise invalid(
                f"Invalid order_by {item!r}: use one of {', '.join(columns)}, "
                "optionally followed by ASC or DESC."
            )
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise invalid(f"Invalid order_by {item!r}: the direction is ASC or DESC.")
        fields.append(("-" if direction == "DESC" else "") + columns[parts[0].lower()])
    return (fields or default) + ["pk"]


def models_matching(text: str | None, order_by: list[str]):
    q = model_filter_q(parse_filter(text, fields=("name",)))
    order = order_fields(order_by, MODEL_ORDER, ["name_ci"])
    return RegisteredModel.objects.filter(q).annotate(name_ci=Lower("name")).order_by(*order)


def models_in_order(matching, page_ids):
    """The models of `page_ids` (a slice of `matching.values("pk")`), in `matching`'s
    order. Reading a page's ids on their own lets PostgreSQL find them in an index that
    holds the names (registry 0016), instead of reading a row of the table for every name
    a pattern passes over."""
    models = RegisteredModel.objects.filter(pk__in=page_ids).annotate(name_ci=Lower("name"))
    return models.order_by(*matching.query.order_by)


def versions_matching(text: str | None, order_by: list[str]):
    fields = ("name", "run_id", "version_number", "source_path")
    q = version_filter_q(parse_filter(text, fields=fields))
    order = order_fields(order_by, VERSION_ORDER, ["-created_at", "model_name_ci", "-number"])
    rows = ModelVersion.objects.filter(q).annotate(model_name_ci=Lower("model__name"))
    return rows.order_by(*order)
