"""Filters of the request list (GET /api/transition-requests/)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from ..models import TARGET_STAGE_CHOICES, RequestState, TransitionRequest
from ..selectors import request_list

TRUE, FALSE = ("true", "1"), ("false", "0")


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is a 400, not silently "no filter"."""

    widget = forms.TextInput  # NullBooleanSelect would turn a typo into "unknown"

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValidationError("Give true or false.")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class TransitionRequestFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=RequestState.choices, method="keep", help_text="Repeat for any of several."
    )
    to_stage = django_filters.MultipleChoiceFilter(
        choices=TARGET_STAGE_CHOICES, method="keep", help_text="Repeat for any of several."
    )
    model = django_filters.CharFilter(method="keep", help_text="Model name (any case).")
    waiting_for_me = StrictBooleanFilter(
        method="keep",
        help_text="true: only the pending requests you may approve and have not reviewed "
        "(your inbox).",
    )

    class Meta:
        model = TransitionRequest
        fields = []

    def keep(self, queryset, name, value):
        return queryset  # every filter is applied at once by the selector, in filter_queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return request_list(
            self.request.user,
            states=data.get("state") or None,
            to_stages=data.get("to_stage") or None,
            model_name=data.get("model") or "",
            waiting_for_me=bool(data.get("waiting_for_me")),
        )
