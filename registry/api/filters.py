"""Filters of the cross-model version search (GET /api/versions/)."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from ..choices import Framework
from ..models import ModelVersion
from ..stages import Stage


class StrictIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        if value == "":  # sent but empty: a mistake, not "no filter"
            raise ValidationError("Give a date and time such as 2024-01-31T00:00:00Z.")
        parsed = super().to_python(value)
        # In UTC: PostgreSQL refuses offsets past 15:59 that Python accepts (-21:19).
        return parsed.astimezone(datetime.UTC) if parsed else parsed


class StrictIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StrictIsoDateTimeField


class VersionFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(method="filter_model", help_text="Model name (any case).")
    team = django_filters.CharFilter(field_name="model__team__slug", help_text="Team slug.")
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    framework = django_filters.MultipleChoiceFilter(choices=Framework.choices)
    label = django_filters.CharFilter()
    code_commit = django_filters.CharFilter(help_text="Full commit SHA.")
    run_id = django_filters.CharFilter()
    artifact_sha256 = django_filters.CharFilter(help_text="Find the version of an artifact.")
    created_by = django_filters.CharFilter(field_name="created_by__username")
    created_after = StrictIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = StrictIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ModelVersion
        fields = []

    def filter_model(self, queryset, name, value):
        return queryset.filter(model__name__lower=value.lower())
