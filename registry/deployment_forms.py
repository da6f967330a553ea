"""The deployment pages' forms. They shape input for registry.services.deployments,
which enforces the rules (who may, safe URLs, unique names, events, scope) and whose
errors they show next to the fields."""

from django import forms

from .deployments.models import (
    DeliveryEvent,
    DeliveryState,
    Environment,
    TargetKind,
    TargetScope,
)
from .forms import ServiceErrorsMixin
from .models import RegisteredModel, Team
from .permissions import user_maintained_team_ids

MAX_CHOSEN_MODELS = 50


class TargetForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Unique, e.g. “argo-prod-eu” or “serving-staging”."
    )
    environment = forms.ChoiceField(
        choices=Environment.choices,
        help_text="A failing notification to a production target is flagged on the model page.",
    )
    url = forms.CharField(
        label="URL",
        max_length=1000,
        help_text="Where the signed POST goes: http(s), a public address.",
    )
    repository = forms.CharField(
        max_length=1000,
        help_text="Where the manifest is committed: git@host:org/repo.git, ssh:// or "
        "https:// (no password in it: the worker's Git credentials push).",
    )
    branch = forms.CharField(max_length=200, initial="main", help_text="E.g. main.")
    manifest_path = forms.CharField(
        label="Manifest path",
        max_length=300,
        initial="models/production.json",
        help_text="Inside the repository, e.g. models/production.json: one JSON document "
        "keyed by model name.",
    )
    events = forms.MultipleChoiceField(
        choices=DeliveryEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the target is told about.",
    )
    scope = forms.ChoiceField(
        choices=TargetScope.choices,
        initial=TargetScope.MODELS,
        widget=forms.RadioSelect,
        help_text="Platform admins define targets for all models; a team's maintainers "
        "for the team; its members for chosen models of the team.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        help_text="With the scope “A team's models”.",
    )
    models = forms.CharField(
        label="Models",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"With the scope “Chosen models”: model names, separated by commas or "
        f"new lines (at most {MAX_CHOSEN_MODELS}).",
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive targets are sent nothing."
    )

    GIT_FIELDS = ("repository", "branch", "manifest_path")

    def __init__(self, *args, user, kind, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the fields of the target's kind: a Git target has no URL (nor secret).
        for field in ("url",) if kind == TargetKind.GIT else self.GIT_FIELDS:
            del self.fields[field]
        teams = Team.objects.order_by("name")
        if not user.is_superuser:
            teams = teams.filter(pk__in=user_maintained_team_ids(user))
        self.fields["team"].queryset = teams

    def clean_models(self) -> list[RegisteredModel]:
        text = self.cleaned_data["models"]
        names = list(dict.fromkeys(n.strip() for n in text.replace("\n", ",").split(",")))
        names = [n for n in names if n]
        if len(names) > MAX_CHOSEN_MODELS:
            raise forms.ValidationError(f"Choose at most {MAX_CHOSEN_MODELS} models.")
        # lower(name) is served by the unique index on it (registry.apps).
        wanted = RegisteredModel.objects.filter(name__lower__in=[n.lower() for n in names])
        found = {m.name.lower(): m for m in wanted}
        unknown = [n for n in names if n.lower() not in found]
        if unknown:
            raise forms.ValidationError(f"No model is named {', '.join(unknown)}.")
        return [found[n.lower()] for n in names]


def target_initial(target) -> dict:
    return {
        "name": target.name,
        "environment": target.environment,
        "url": target.url,
        "repository": target.repository,
        "branch": target.branch,
        "manifest_path": target.manifest_path,
        "events": list(target.events),
        "scope": target.scope,
        "team": target.team_id,
        "models": ", ".join(m.name for m in target.chosen_models.order_by("name")),
        "active": target.active,
    }


def _blank(choices):
    return [("", "Any"), *choices]


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(choices=_blank(DeliveryState.choices), required=False)
    event = forms.ChoiceField(choices=_blank(DeliveryEvent.choices), required=False)
    model = forms.CharField(max_length=200, required=False, help_text="Its exact name.")
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range comes before its start.")
        return data
