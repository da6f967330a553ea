"""MLflow's key=value tags <-> Modelgate's metadata fields and name-only tags.

A registered model's tags, as MLflow sees them:
- the metadata fields every Modelgate model carries, under their own keys (MODEL_FIELD_TAGS):
  `team` (the team's slug), `owner` (a user name), `purpose`, `license`,
  `data_classification`, `evaluation_coverage` and `risk_tier` (read-only after creation:
  only governance staff change it, with a reason, in Modelgate);
- each Modelgate tag (a name, no value) as a key with the empty value "".
Any other key=value pair is refused: Modelgate keeps no free key/value table, and
silently dropping or flattening a value would lose what the pipeline said.

A version's tags are its immutable registration facts (VERSION_FIELD_TAGS), set when
it is created and never changed afterwards.
"""

from .errors import invalid

MODEL_FIELD_TAGS = (
    "team",
    "owner",
    "purpose",
    "license",
    "data_classification",
    "evaluation_coverage",
    "risk_tier",
)
# Fields that set-tag may change afterwards through registry.services.model_update.
MODEL_UPDATABLE_TAGS = tuple(t for t in MODEL_FIELD_TAGS if t != "risk_tier")
VERSION_FIELD_TAGS = (
    "label",
    "framework",
    "flavor",
    "run_system",
    "code_repository",
    "code_commit",
)


def model_tags(model) -> list[dict[str, str]]:
    tags = [
        {"key": "team", "value": model.team.slug},
        {"key": "owner", "value": model.owner.get_username()},
        *({"key": k, "value": str(getattr(model, k))} for k in MODEL_FIELD_TAGS[2:]),
    ]
    return tags + [{"key": name, "value": ""} for name in model.tag_list]


def version_tags(version) -> list[dict[str, str]]:
    return [
        {"key": k, "value": str(getattr(version, k))}
        for k in VERSION_FIELD_TAGS
        if getattr(version, k)
    ]


def plain_tag(key: str, value: str) -> str:
    """The Modelgate tag an MLflow tag that is not a metadata field stands for."""
    if value != "":
        raise invalid(
            f"Tag {key!r}={value!r}: Modelgate tags are names without values, so only the "
            f"metadata keys ({', '.join(MODEL_FIELD_TAGS)}) take a value; send "
            f'{key!r} with the empty value "" to add it as a tag.'
        )
    return key


def parse_tag_list(raw, *, what: str) -> dict[str, str]:
    """MLflow's `tags: [{key, value}]` as a dict; malformed entries are refused."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise invalid(f"{what} must be a list of {{key, value}} objects.")
    tags: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise invalid(f"Each of {what} needs a string 'key'.")
        value = item.get("value", "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise invalid(f"The value of tag {item['key']!r} must be a string.")
        tags[item["key"]] = value
    return tags
