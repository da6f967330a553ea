"""What the audit log knows about other apps' events: only what they declare here.

`audit` is a leaf (DESIGN.md, "Dependencies between apps point one way"): it imports
no other app. As with pretix's `log_action`, the app that writes an event owns its
name and its shape, declared once in its own `<app>/audit_actions.py`. AuditConfig.ready()
imports that module of every installed app, so every name is known before the first
event is written or the audit page lists them. An app declares:

    # approvals/audit_actions.py
    from django.db import models

    from audit.actions import EventShape, register

    class Action(models.TextChoices):
        TRANSITION_APPLIED = "approvals.transition.applied", "Transition applied"

    register(
        Action,
        {
            Action.TRANSITION_APPLIED: EventShape(
                fields=("from_stage", "to_stage", "reason", "request_id"),
                changes=("requested_by", "approved_by", "gate_results"),
            ),
        },
    )

and its services write `audit.services.event_record(actor=..., action=Action.X, ...)`.

- Names are "<app>.<object>.<verb>"; each is registered once, and every member of the
  TextChoices needs a shape. The label is what the audit page, its action filter and the
  admin show; stored events keep the bare name, so renaming a label rewrites no history.
- event_record refuses (AuditError) an action nobody registered, a `changes` key its
  shape does not list, and a from_stage, to_stage, reason or request_id its shape does
  not list in `fields`. Listed keys and fields may still be left out of an event.
- An event that sets `to_stage` is a stage transition: "Stage transitions only" on the
  audit page holds it.
- `describe(event, changes)` (optional) is the sentence the audit page and a model's
  history show, as HTML built with format_html (audit.display.subject() marks up a
  name), or None to fall back on the label.

Two more declarations come from the app that owns models and stages (the registry):
register_stage_labels() names the values of from_stage / to_stage, and
register_model_directory() tells the audit pages how to find the models whose name and
id events record (the model filter, links to model and version pages).
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

__all__ = [
    "STAGE_FIELDS",
    "DeclaredAction",
    "EventShape",
    "ModelDirectory",
    "UnknownAction",
    "action_choices",
    "action_label",
    "declared",
    "model_directory",
    "register",
    "register_model_directory",
    "register_stage_labels",
    "stage_label",
    "unregister",
]

# The event fields, besides `changes`, whose use an action declares.
STAGE_FIELDS = ("from_stage", "to_stage", "reason", "request_id")


@dataclass(frozen=True)
class EventShape:
    """What events of one action hold: the keys of `changes`, and which of STAGE_FIELDS
    they set. `describe` renders one as a sentence (see the module docstring)."""

    changes: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    describe: Callable[[Any, Mapping[str, Any]], Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.fields) - set(STAGE_FIELDS)
        if unknown:
            raise ValueError(f"EventShape fields must be among {STAGE_FIELDS}, not {unknown}.")

    def problems(self, changes: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
        """What an event of this shape may not hold: undeclared `changes` keys (audit's
        own, starting with "_", aside) and undeclared STAGE_FIELDS that are set."""
        extra_keys = sorted(str(k) for k in changes if not str(k).startswith("_"))
        extra_keys = [k for k in extra_keys if k not in self.changes]
        extra_fields = [
            f for f in STAGE_FIELDS if values.get(f) not in (None, "") and f not in self.fields
        ]
        return [f"changes key {k!r}" for k in extra_keys] + [f"field {f}" for f in extra_fields]


@dataclass(frozen=True)
class DeclaredAction:
    name: str
    label: str
    shape: EventShape


class UnknownAction(LookupError):
    pass


_actions: dict[str, DeclaredAction] = {}
_stage_labels: dict[str, str] = {}


def register(actions: type[models.TextChoices], shapes: Mapping[str, EventShape]) -> None:
    """Declare an app's actions: a TextChoices of names and labels, and each one's shape.

    Registering the same declaration again (a module imported twice) changes nothing;
    a name already declared differently is an error, as is a member without a shape."""
    missing = [a.value for a in actions if a not in shapes]
    strays = [str(name) for name in shapes if name not in actions.values]
    if missing or strays:
        raise ValueError(
            f"{actions.__name__}: shapes missing for {missing}, shapes of no member: {strays}"
        )
    new = {a.value: DeclaredAction(a.value, str(a.label), shapes[a]) for a in actions}
    for name, declaration in new.items():
        existing = _actions.get(name)
        if existing is not None and existing != declaration:
            raise ValueError(f"The audit action {name!r} is already declared differently.")
    _actions.update(new)


def unregister(actions: Iterable[str]) -> None:
    """Forget declared actions (for tests that declare their own)."""
    for name in actions:
        _actions.pop(str(name), None)


def declared(name: str) -> DeclaredAction:
    """The declaration of action `name`; UnknownAction if no app registered it."""
    try:
        return _actions[str(name)]
    except KeyError:
        raise UnknownAction(
            f"No app declares the audit action {name!r} (audit.actions.register)."
        ) from None


def action_label(name: str) -> str:
    """The declared label, or the bare name for an action no longer declared (its
    stored events still show, as what they recorded)."""
    declaration = _actions.get(name)
    return declaration.label if declaration else name


def action_choices() -> list[tuple[str, str]]:
    """(name, label) of every declared action, in the order the apps declared them."""
    return [(a.name, a.label) for a in _actions.values()]


def register_stage_labels(choices: Iterable[tuple[str, str]]) -> None:
    """Name the values that from_stage and to_stage hold, e.g. Stage.choices."""
    _stage_labels.update((str(value), str(label)) for value, label in choices)


def stage_label(value: str) -> str:
    return _stage_labels.get(value, value)


@dataclass(frozen=True)
class ModelDirectory:
    """How the audit pages find the models that events' model_id and model_name refer to.

    - `id_named(name)`: the id of the model called `name` now (ignoring case), or None;
    - `names(ids)`: {id: current name} of those models that still exist, in one query;
    - `model_url(name)`, `version_url(name, number)`: their pages.
    """

    id_named: Callable[[str], int | None]
    names: Callable[[Collection[int]], dict[int, str]]
    model_url: Callable[[str], str]
    version_url: Callable[[str, int], str]


# Until an app registers one: no model is known, so events show their recorded names.
_NO_DIRECTORY = ModelDirectory(
    id_named=lambda name: None,
    names=lambda ids: {},
    model_url=lambda name: "",
    version_url=lambda name, number: "",
)
_directory = [_NO_DIRECTORY]


def register_model_directory(directory: ModelDirectory) -> None:
    _directory[0] = directory


def model_directory() -> ModelDirectory:
    return _directory[0]
