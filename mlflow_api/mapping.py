"""MLflow calls' arguments as the keyword arguments of Modelgate's services."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from registry.choices import Framework
from registry.models import RegisteredModel, Team
from registry.selectors import teams_for_user
from registry.validators import validate_artifact_uri

from .errors import invalid
from .tags import MODEL_FIELD_TAGS, MODEL_UPDATABLE_TAGS, VERSION_FIELD_TAGS, plain_tag

REQUIRED_METADATA = (
    "purpose",
    "license",
    "data_classification",
    "evaluation_coverage",
    "risk_tier",
)


def _team(actor, ref: str | None) -> Team:
    mine = list(teams_for_user(actor).order_by("name"))
    names = ", ".join(t.slug for t in mine) or "none"
    if ref:
        for team in mine:
            if ref.lower() in (team.slug.lower(), team.name.lower()):
                return team
        raise invalid(
            f"Tag team={ref!r} does not name one of your teams (yours: {names}); a model "
            "is registered for a team you belong to."
        )
    if len(mine) == 1:
        return mine[0]
    raise invalid(
        "A registered model needs an owning team: add the tag team=<slug> naming one of "
        f"your teams ({names})."
        if mine
        else "A registered model needs an owning team, and you belong to none: ask a team "
        "maintainer to add you."
    )


def _user(username: str):
    user = get_user_model().objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise invalid(f"Tag owner={username!r}: no active user has that name.")
    return user


def model_create_kwargs(*, actor, name: str, description: str, tags: dict[str, str]) -> dict:
    """model_create's arguments: metadata from the tags, the team from the `team` tag or
    the actor's only team, the owner from the `owner` tag or the actor."""
    missing = [k for k in REQUIRED_METADATA if not tags.get(k, "").strip()]
    if not description.strip():
        missing.insert(0, "description (the call's description)")
    if missing:
        raise invalid(
            "Modelgate keeps a metadata standard for every model; give it when creating "
            f"{name!r} as tags: missing {', '.join(missing)}."
        )
    plain = [plain_tag(k, v) for k, v in tags.items() if k not in MODEL_FIELD_TAGS]
    owner = _user(tags["owner"]) if tags.get("owner") else actor
    return {
        "name": name,
        "team": _team(actor, tags.get("team")),
        "owner": owner,
        "description": description,
        "tags": plain,
        **{k: tags[k] for k in REQUIRED_METADATA},
    }


def model_tag_changes(model: RegisteredModel, key: str, value: str | None) -> dict:
    """model_update's arguments for setting (value) or deleting (None) one tag."""
    if key == "risk_tier":
        raise invalid(
            "risk_tier selects the approval policy: only governance staff change it, with a "
            "reason, in Modelgate."
        )
    if key in MODEL_UPDATABLE_TAGS:
        if value is None:
            raise invalid(f"{key} is required metadata of every model; set it, do not delete it.")
        if key == "team":
            team = Team.objects.filter(Q(slug__iexact=value) | Q(name__iexact=value)).first()
            if team is None:
                raise invalid(f"Tag team={value!r}: no team has that slug or name.")
            return {"team": team}
        if key == "owner":
            return {"owner": _user(value)}
        return {key: value}
    current = list(model.tag_list)
    if value is None:
        if key not in current:
            raise invalid(f"{model.name} has no tag {key!r}.")
        return {"tags": [t for t in current if t != key]}
    return {"tags": [*current, plain_tag(key, value)]}


def version_register_kwargs(*, model, params, tags: dict[str, str]) -> dict:
    """version_register's arguments from MLflow's create_model_version."""
    unknown = sorted(set(tags) - set(VERSION_FIELD_TAGS))
    if unknown:
        raise invalid(
            f"Model versions take only the tags {', '.join(VERSION_FIELD_TAGS)}; not "
            f"{', '.join(unknown)}."
        )
    source = params.text("source").strip()
    if source:
        try:
            validate_artifact_uri(source)
        except ValidationError:
            raise invalid(
                f"source {source!r}: Modelgate records where the artifact is stored "
                "(s3://, gs://, https://, ... URIs), not an MLflow run or local path; give "
                "that URI, or leave source empty and upload the file to the version in "
                "Modelgate."
            ) from None
    run_id = params.text("run_id")
    framework = tags.get("framework") or Framework.OTHER
    return {
        "label": tags.get("label") or f"{model.last_version_number + 1}.0.0",
        "framework": framework,
        "flavor": tags.get("flavor", ""),
        "artifact_uri": source,
        "run_system": tags.get("run_system") or ("mlflow" if run_id else ""),
        "run_id": run_id,
        "run_url": params.text("run_link"),
        "code_repository": tags.get("code_repository", ""),
        "code_commit": tags.get("code_commit", ""),
        "release_notes": params.text("description"),
    }
