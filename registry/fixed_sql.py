"""Fixed SQL texts for the hot paths: what every registration does (its reads and its
inserts) and the reads of the model and version pages and their API.

Building a query with the ORM (select_related, defer, annotations, first(), an INSERT's
compiler) costs about a millisecond of Python per statement, several times what
PostgreSQL takes to run it (bench/results/registration-notes.md). For the statements on
these paths the SQL is written once, from the models' own field lists, and the reads run
as prepared statements (fixed_cursor). Rows
read become instances as the ORM makes them (`from_db`, the fields' converters applied,
related objects cached on the instance, fields left out deferred); values written are
prepared as Model.save() prepares them (each field's pre_save and get_db_prep_save).
"""

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import psycopg.types.json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import DateTimeField, Field, JSONField, Model
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from .models import RegisteredModel, Team


class Columns:
    """The concrete fields of `model` (except `exclude`) as a SELECT list under `alias`,
    and the instance a row's slice of them makes."""

    def __init__(self, model: type[Model], alias: str, *, exclude: tuple[str, ...] = ()):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if f.attname not in exclude]
        self.attnames = [f.attname for f in fields]
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{quote(f.column)}" for f in fields)
        # Only fields that convert what the database gives (JSONField's text) need it.
        self._converters = [
            (i, f.from_db_value) for i, f in enumerate(fields) if hasattr(f, "from_db_value")
        ]

    def __len__(self) -> int:
        return len(self.attnames)

    def instance(self, row, start: int = 0) -> Model:
        values = list(row[start : start + len(self.attnames)])
        for i, convert in self._converters:
            values[i] = convert(values[i], None, transaction.get_connection())
        return self.model.from_db(connection.alias, self.attnames, values)


class _PreparingCursor(psycopg.Cursor):
    """Binds server-side and has PostgreSQL keep the statement's plan: the first run of
    a text on a connection plans it, later runs reuse the plan (PostgreSQL may keep
    planning per call when a generic plan would cost more; see PREPARE's docs)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)

    def _convert_query(self, query, params=None):
        # Django's query log (DEBUG, CaptureQueriesContext) reads the text a statement
        # ran from `_query`, which psycopg leaves unset when it runs a prepared one.
        self._query = super()._convert_query(query, params)
        return self._query


@contextmanager
def fixed_cursor() -> Iterator:
    """A cursor for a fixed SQL text, counted and wrapped as Django's own are. On
    PostgreSQL with DATABASE_PREPARED_STATEMENTS, its statements are prepared: planning
    the texts on the read paths (joins of the model, its team, owner and the viewer's
    grants) took more time than running them. Use it only for texts whose parameters
    do not change the best plan much: a prepared statement may settle on one generic
    plan for all of them."""
    wrapper = connection.cursor()
    if settings.DATABASE_PREPARED_STATEMENTS:
        wrapper.cursor.close()
        wrapper.cursor = _PreparingCursor(connection.connection)
    with wrapper:
        yield wrapper


def fetch_one(sql: str, params) -> tuple | None:
    with fixed_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params) -> list[tuple]:
    with fixed_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def model_rows(
    where: str, params: list, *, exclude: tuple[str, ...], extras: dict[str, RawSQL] | None = None
) -> list[Model]:
    """Registered models matching `where` (SQL naming the model's table by its own
    name), as `select_related("team", "owner").defer(*exclude)` with `extras` as
    annotations would load them: one fixed SQL text, run prepared (fetch_all). The
    model, version and catalog pages and the API read their models through it."""
    User = get_user_model()
    table = RegisteredModel._meta.db_table
    model = columns(RegisteredModel, table, exclude)
    team, owner = columns(Team, "t"), columns(User, "u")
    extras = extras or {}
    rows = fetch_all(
        f"SELECT {model.sql}, {team.sql}, {owner.sql}"
        + "".join(f", ({extra.sql})" for extra in extras.values())
        + f" FROM {table} JOIN {Team._meta.db_table} t ON t.id = {table}.team_id"
        f" JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = {table}.owner_id"
        f" WHERE {where}",
        [*(p for extra in extras.values() for p in extra.params), *params],
    )
    found = []
    for row in rows:
        obj = model.instance(row)
        cache_related(obj, "team", team.instance(row, len(model)))
        cache_related(obj, "owner", owner.instance(row, len(model) + len(team)))
        set_annotations(obj, extras, row[len(model) + len(team) + len(owner) :])
        found.append(obj)
    return found


def set_annotations(obj, extras: dict[str, RawSQL], values) -> None:
    """Set on `obj` what a fixed SQL text read for `extras` (annotations written as
    RawSQL), as the ORM would convert it for their output fields: an array of jsonb
    comes from the database as text."""
    for (key, extra), value in zip(extras.items(), values, strict=True):
        field = extra.output_field
        if isinstance(field, ArrayField) and isinstance(field.base_field, JSONField):
            value = [json.loads(item) for item in value]
        setattr(obj, key, value)


def cache_related(obj: Model, field_name: str, related: Model) -> None:
    """As select_related leaves it: `obj.<field_name>` answers without a query."""
    obj._meta.get_field(field_name).set_cached_value(obj, related)


@cache
def columns(model: type[Model], alias: str, exclude: tuple[str, ...] = ()) -> Columns:
    """A model's Columns, built once (on first use, when the apps are loaded)."""
    return Columns(model, alias, exclude=exclude)


@cache
def insert_fields(model: type[Model], exclude: tuple[str, ...] = ()) -> tuple[Field, ...]:
    """The fields a new instance's INSERT writes: every concrete field but the auto
    primary key and `exclude`."""
    return tuple(
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.db_returning) and f.attname not in exclude
    )


def insert_params(obj: Model, fields: tuple[Field, ...]) -> list:
    """`obj`'s values for `fields`, prepared as Model.save() prepares them (which also
    sets auto_now(_add) timestamps on `obj`)."""
    db = transaction.get_connection()  # the thread's connection, not the proxy to it
    return [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]


def json_record(obj: Model, fields: tuple[Field, ...]) -> psycopg.types.json.Jsonb:
    """`obj`'s values for `fields` (prepared as insert_params prepares them) as one jsonb
    object keyed by column, for `jsonb_populate_record(NULL::<table>, %s)`: a row of
    many columns as one parameter. A statement of more than 50 parameters is parsed
    again by psycopg on every run (it caches smaller ones), and one parameter each made
    the registration's INSERT that long. PostgreSQL reads each value with its column
    type's input function, as it reads a text parameter; timestamps keep their
    microseconds (DjangoJSONEncoder would cut them to milliseconds)."""
    db = transaction.get_connection()
    row = {}
    for f in fields:
        value = f.pre_save(obj, True)
        if isinstance(f, JSONField):
            value = f.get_prep_value(value)
            if f.encoder is not None:  # what the field would store, as plain JSON
                value = json.loads(json.dumps(value, cls=f.encoder))
        else:
            value = f.get_db_prep_save(value, db)
            if isinstance(value, datetime.datetime | datetime.date):
                value = value.isoformat()
        row[f.column] = value
    return psycopg.types.json.Jsonb(row)


def column_list(fields: tuple[Field, ...]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def placeholders(fields: tuple[Field, ...], *, typed: bool = False) -> str:
    """`%s` for each field; typed (`%s::bigint`) for INSERT ... SELECT, where an untyped
    NULL or string would be text."""
    if not typed:
        return ", ".join("%s" for _ in fields)
    return ", ".join(f"%s::{f.db_type(connection)}" for f in fields)


def mark_saved(obj: Model, pk: int) -> None:
    """Leave a just-inserted instance as Model.save() leaves it."""
    obj.pk = pk
    obj._state.adding, obj._state.db = False, connection.alias


def from_jsonb(model_class: type[Model], row: dict) -> Model:
    """An instance of `model_class` from `to_jsonb` of its table's row, as the ORM would
    load it (to_jsonb gives timestamps as text)."""
    values = {}
    for field in model_class._meta.concrete_fields:
        if field.column in row:
            value = row[field.column]
            if isinstance(field, DateTimeField) and value is not None:
                value = parse_datetime(value)
            values[field.attname] = value
    instance = model_class(**values)
    instance._state.adding, instance._state.db = False, connection.alias
    return instance
