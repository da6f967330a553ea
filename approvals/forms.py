"""The browser forms of approvals: requesting a stage change, and the transitions export's
filters. The request form shapes input for approvals.services.transition_request, which
enforces the rules (allowed moves, reason length); the service's errors are shown next to
the fields they concern."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from registry.models import Team

from .export import TransitionFilter
from .models import TARGET_STAGE_CHOICES, Outcome
from .preview import StageOption


class TransitionRequestForm(forms.Form):
    to_stage = forms.ChoiceField(label="Move it to", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why this version should move: what it improves, who agreed, what to watch. "
        "Kept for ever in the audit log.",
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        strip=True,
    )

    def __init__(self, *args, options: list[StageOption], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(o.stage, o.label) for o in options if o.allowed]
        self.fields["to_stage"].error_messages["invalid_choice"] = (
            "That move is not allowed for this version now; pick one of the stages offered."
        )

    def add_service_error(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names (others on the form)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class TransitionExportForm(forms.Form):
    """The transitions export's filters; every field is optional (no filter: all rows)."""

    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        help_text="Inclusive; dates are in UTC.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="Any team"
    )
    model = forms.CharField(required=False, max_length=100, label="Model name")
    to_stage = forms.ChoiceField(
        required=False, choices=[("", "Any stage"), *TARGET_STAGE_CHOICES], label="Target stage"
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), *Outcome.choices], label="Outcome"
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def to_filter(self) -> TransitionFilter:
        data = self.cleaned_data
        return TransitionFilter(
            date_from=data["date_from"],
            date_to=data["date_to"],
            team_id=data["team"].pk if data["team"] else None,
            model=data["model"].strip(),
            to_stage=data["to_stage"],
            outcome=data["outcome"],
        )


class AliasForm(forms.Form):
    """Point an alias at a version (approvals.services.alias_assign decides whether at once
    or through a request, and checks the name)."""

    name = forms.CharField(
        label="Alias",
        max_length=200,
        help_text="Letters, digits, '_' or '-', e.g. challenger. Not 'latest' or v<number>.",
    )
    version = forms.IntegerField(label="Version number", min_value=1)
    reason = forms.CharField(
        label="Reason (protected aliases)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A protected alias is set once its request is approved: say why this "
        "version should be it. Kept for ever in the audit log.",
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        strip=True,
    )

    def add_service_error(self, exc: ValidationError) -> None:
        """The service's errors on the fields they name ("alias" is the name field)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                field = "name" if field == "alias" else field
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)
