"""Serializers of teams, registered models and catalog pages.

Input serializers check the shape of a request and nothing more: the services decide
what is valid (names, SPDX licenses, tags) so the browser and the API reject the same
things the same way. `stage` is read-only; only the approvals app changes it.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ...choices import DataClassification, RiskTier
from ...limits import validate_markdown_size
from ...models import RegisteredModel, Team
from ...permissions import can_edit_model
from ...search import FACETS, MAX_PAGE, MAX_PER_PAGE, SORTS
from ...stages import Stage
from ...validators import validate_tag_as_sent
from ..fields import StrictInputMixin
from ..openapi import MODEL_NAME_PATTERN

User = get_user_model()


def api_reverse(context, name, *args) -> str:
    """An absolute URL when the serializer has a request, else a path (schema generation)."""
    return reverse(name, args=args, request=context.get("request"))


# --- Teams ---------------------------------------------------------------------------


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name"]


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "members"]


# --- Registered models -----------------------------------------------------------


class RegisteredModelSerializer(serializers.ModelSerializer):
    team = TeamRefSerializer(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)
    stage = serializers.ChoiceField(
        source="current_stage",
        choices=Stage.choices,
        read_only=True,
        help_text="The most advanced stage any version is in. Changes only through approvals.",
    )
    latest_version = serializers.IntegerField(source="last_version_number", read_only=True)
    aliases = serializers.SerializerMethodField(
        help_text="The model's aliases by name (each points at one version: "
        "GET .../aliases/ says which)."
    )
    can_edit = serializers.SerializerMethodField(
        help_text="Whether you may change this model and register versions of it."
    )
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "name",
            "team",
            "owner",
            "description",
            "purpose",
            "license",
            "data_classification",
            "evaluation_coverage",
            "risk_tier",
            "tags",
            "stage",
            "latest_version",
            "latest_framework",
            "aliases",
            "can_edit",
            "created_at",
            "updated_at",
            "url",
            "web_url",
        ]
        read_only_fields = fields

    def get_aliases(self, model) -> list[str]:
        return sorted((a.name for a in model.aliases.all()), key=str.lower)

    def get_can_edit(self, model) -> bool:
        return can_edit_model(self.context["request"].user, model)

    def get_url(self, model) -> str:
        return api_reverse(self.context, "api:model-detail", model.name)

    def get_web_url(self, model) -> str:
        return api_reverse(self.context, "registry:model_detail", model.name)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 100,
        "pattern": MODEL_NAME_PATTERN,
    }
)
class ModelNameField(serializers.CharField):
    """The format is checked by the service, after look-alike names (a 409 naming the
    model they resemble); stated in the schema only."""


class ModelWriteSerializer(StrictInputMixin, serializers.Serializer):
    """Every field of the shared metadata standard; PATCH sends only what changes."""

    name = ModelNameField(max_length=settings.MODEL_NAME_MAX_CHARS)
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        help_text="The owning team's slug (see /api/teams/).",
        error_messages={"does_not_exist": "No team with slug {value}; see /api/teams/."},
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        help_text="Username of the person accountable for the model.",
        error_messages={"does_not_exist": "No active user named {value}."},
    )
    description = serializers.CharField(validators=[validate_markdown_size])
    purpose = serializers.CharField(
        help_text="The business decision or product it serves.",
        validators=[validate_markdown_size],
    )
    license = serializers.CharField(
        max_length=200, help_text="An SPDX license identifier or expression, or 'proprietary'."
    )
    data_classification = serializers.ChoiceField(choices=DataClassification.choices)
    evaluation_coverage = serializers.CharField(
        help_text="Which slices and datasets were evaluated.",
        validators=[validate_markdown_size],
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40, validators=[validate_tag_as_sent]),
        required=False,
        default=list,
        max_length=settings.TAGS_MAX_PER_MODEL,
        error_messages={"max_length": "At most {max_length} tags per model."},
    )


class ModelCreateSerializer(ModelWriteSerializer):
    """A new model also names its risk tier, which selects its approval policies; only
    governance staff change it afterwards."""

    risk_tier = serializers.ChoiceField(
        choices=RiskTier.choices,
        help_text="low, medium, high or critical: selects the approval policies.",
    )


# --- Catalog search ----------------------------------------------------------------


class CatalogParamsSerializer(serializers.Serializer):
    """The search's query parameters, checked: a malformed one is a 400, not ignored."""

    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Words to search for."
    )
    sort = serializers.ChoiceField(
        choices=list(SORTS),
        required=False,
        help_text="Default: relevance when searching with q, else name.",
    )
    page = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE,
        required=False,
        help_text="From 1; a page past the last gives the last.",
    )
    per_page = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_PAGE, required=False, help_text="Default 25."
    )
    exact = serializers.BooleanField(
        required=False,
        help_text=(
            "Count exactly: `count` and every facet count exact whatever the number of "
            "matches (slower; stopped after SEARCH_EXACT_TIMEOUT_SECONDS, with estimates "
            "and `exact_error` instead)."
        ),
    )

    @classmethod
    def check(cls, params) -> None:
        """A 400 for any malformed parameter; "sort=" and "page=" included (a QueryDict
        would let DRF read an empty value as absent)."""
        data = {key: params.getlist(key) if key in FACETS else params.get(key) for key in params}
        cls(data=data).is_valid(raise_exception=True)

    def get_fields(self):
        fields = super().get_fields()
        for facet in FACETS:
            fields[facet] = serializers.ListField(
                child=serializers.CharField(allow_blank=True),
                required=False,
                max_length=20,
                help_text=f"Only models with this {facet} (repeat for any of several).",
            )
        return fields


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(
        help_text="Matches with this value; an estimate when the facet's entry in "
        "`facets_exact` is false."
    )
    selected = serializers.BooleanField()


class FacetsSerializer(serializers.Serializer):
    team = FacetValueSerializer(many=True)
    stage = FacetValueSerializer(many=True)
    license = FacetValueSerializer(many=True)
    classification = FacetValueSerializer(many=True)
    framework = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Results on all pages.")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.IntegerField(allow_null=True, help_text="Next page number, or null.")
    previous = serializers.IntegerField(allow_null=True, help_text="Previous page number.")


class FacetsExactSerializer(serializers.Serializer):
    team = serializers.BooleanField()
    stage = serializers.BooleanField()
    license = serializers.BooleanField()
    classification = serializers.BooleanField()
    framework = serializers.BooleanField()
    tag = serializers.BooleanField()


class CatalogPageSerializer(PageSerializer):
    count_is_exact = serializers.BooleanField(
        help_text=(
            "False when more models match than SEARCH_EXACT_LIMIT (default 1,000): `count` "
            "(and `num_pages`) is then an estimate from a random sample of the matches, "
            "within ±5 % at 95 % confidence. Ask `exact=true` for an exact count."
        )
    )
    facets_exact = FacetsExactSerializer(
        help_text="Per facet: whether its counts are exact (false: estimated from a sample)."
    )
    exact_error = serializers.CharField(
        help_text="Why `exact=true` was not honoured (it took too long); empty otherwise."
    )
    sort = serializers.ChoiceField(choices=list(SORTS))
    results = RegisteredModelSerializer(many=True)
    facets = FacetsSerializer(help_text="Counts per value, ignoring the facet's own filter.")


def drf_datetime(value) -> str:
    """As DRF's DateTimeField writes it (ISO 8601 in the current zone, UTC as Z): for
    the pages built without DRF's per-field work (catalog_page, versions.version_rows)."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _url_of_name(request, view: str):
    """A function giving `view`'s absolute URL for a model name: one reversal for a page
    of models, the name then quoted as `reverse` quotes it."""
    head, tail = reverse(view, args=["NAME"], request=request).rsplit("NAME", 1)
    return lambda name: f"{head}{quote(name, safe=RFC3986_SUBDELIMS + '/~:@')}{tail}"


def catalog_page(request, data: dict) -> dict:
    """CatalogPageSerializer's output for the search view's `data`, built directly:
    DRF's per-field work for 25 models and their facets took ~5 ms of an API search
    (tests/api/test_models.py compares the two, so the documented schema is
    CatalogPageSerializer's). The models carry their owner and team loaded, and their
    `alias_names` (selectors.models_alias_names)."""
    user = request.user
    api_url = _url_of_name(request, "api:model-detail")
    web_url = _url_of_name(request, "registry:model_detail")
    results = [
        {
            "name": model.name,
            "team": {"slug": model.team.slug, "name": model.team.name},
            "owner": model.owner.username,
            "description": model.description,
            "purpose": model.purpose,
            "license": model.license,
            "data_classification": model.data_classification,
            "evaluation_coverage": model.evaluation_coverage,
            "risk_tier": model.risk_tier,
            "tags": [str(tag) for tag in model.tag_list],
            "stage": model.current_stage,
            "latest_version": model.last_version_number,
            "latest_framework": model.latest_framework,
            "aliases": model.alias_names,
            "can_edit": can_edit_model(user, model),
            "created_at": drf_datetime(model.created_at),
            "updated_at": drf_datetime(model.updated_at),
            "url": api_url(model.name),
            "web_url": web_url(model.name),
        }
        for model in data["results"]
    ]
    facets = {
        facet: [
            {
                "value": str(v.value),
                "label": str(v.label),
                "count": int(v.count),
                "selected": bool(v.selected),
            }
            for v in data["facets"][facet]
        ]
        for facet in FACETS
    }
    return {
        "count": int(data["count"]),
        "page": int(data["page"]),
        "num_pages": int(data["num_pages"]),
        "next": data["next"],
        "previous": data["previous"],
        "count_is_exact": bool(data["count_is_exact"]),
        "facets_exact": {facet: bool(data["facets_exact"][facet]) for facet in FACETS},
        "exact_error": str(data["exact_error"]),
        "sort": str(data["sort"]),
        "results": results,
        "facets": facets,
    }
