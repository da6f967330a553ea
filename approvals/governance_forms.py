"""Forms of the governance pages: naming approvers, a model's risk tier, publishing a
policy version. They read input only; the services validate the rules and decide who
may act, and their field errors are shown next to the fields (show_service_errors)."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from registry.choices import CARD_SECTIONS, RiskTier
from registry.models import RegisteredModel, Team

from .models import TARGET_STAGE_CHOICES, Comparator, Policy, PolicyScope

ON_MODEL, ON_TEAM = "model", "team"


def show_service_errors(form: forms.Form, exc: ValidationError) -> dict[str, list[str]]:
    """Put a service's field errors on the form's fields; return the ones it has no
    field for (the threshold and regression tables show theirs above the rows)."""
    rest: dict[str, list[str]] = {}
    for field, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        if field in form.fields:
            form.add_error(field, messages)
        elif field in ("thresholds", "max_regression"):
            rest[field] = messages
        else:
            form.add_error(None, messages)
    return rest


class ApproverGrantForm(forms.Form):
    user = forms.CharField(
        required=False, max_length=150, label="User", help_text="A username; or choose a group."
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), required=False, label="Group"
    )
    stage = forms.ChoiceField(choices=TARGET_STAGE_CHOICES, label="May approve moves into")
    on = forms.ChoiceField(
        choices=[(ON_MODEL, "This model"), (ON_TEAM, "Every model of the team")],
        initial=ON_MODEL,
        label="For",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        username, group = data.get("user", "").strip(), data.get("group")
        if bool(username) == bool(group):
            raise ValidationError("Name one user or one group.")
        if username:
            user = get_user_model().objects.filter(username__iexact=username).first()
            if user is None:
                self.add_error("user", f"No user named {username!r}.")
            data["user"] = user
        else:
            data["user"] = None
        return data


class ApproverRevokeForm(forms.Form):
    """One grant row's Remove button: what the grant is, in hidden fields."""

    stage = forms.ChoiceField(choices=TARGET_STAGE_CHOICES)
    on = forms.ChoiceField(choices=[(ON_MODEL, ON_MODEL), (ON_TEAM, ON_TEAM)])
    user = forms.ModelChoiceField(queryset=get_user_model().objects.all(), required=False)
    group = forms.ModelChoiceField(queryset=Group.objects.all(), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("group")):
            raise ValidationError("Name one user or one group.")
        return data


class RiskTierForm(forms.Form):
    risk_tier = forms.ChoiceField(choices=RiskTier.choices, label="New risk tier")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="Kept in the audit log; the tier selects the policies that apply.",
    )


RULE_FLAGS = (
    "required_approvals",
    "separation_of_duties",
    "required_sections",
    "require_lineage",
    "require_metadata",
    "allow_skip_staging",
)


class PolicyForm(forms.Form):
    scope = forms.ChoiceField(choices=PolicyScope.choices, label="Applies to")
    stage = forms.ChoiceField(choices=TARGET_STAGE_CHOICES, label="Moves into")
    risk_tier = forms.ChoiceField(
        choices=[("", "—")] + RiskTier.choices,
        required=False,
        label="Risk tier",
        help_text="For an organisation default or a team override; a model's own policy "
        "applies whatever its tier.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, label="Team (team override)"
    )
    model = forms.CharField(required=False, max_length=200, label="Model name (model override)")
    required_approvals = forms.IntegerField(label="Required approvals", min_value=0)
    separation_of_duties = forms.BooleanField(
        required=False,
        label="Separation of duties",
        help_text="The requester and the version's author cannot approve.",
    )
    required_sections = forms.MultipleChoiceField(
        choices=CARD_SECTIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Card sections that must be written",
    )
    require_lineage = forms.BooleanField(
        required=False,
        label="Full lineage",
        help_text="Training run, code commit and data versions.",
    )
    require_metadata = forms.BooleanField(
        required=False,
        label="Complete metadata",
        help_text="Owner, purpose, license, data classification, evaluation coverage.",
    )
    allow_skip_staging = forms.BooleanField(
        required=False,
        label="Allow skipping Staging",
        help_text="Production policies only: a version may go there from any earlier stage.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for this version",
        help_text="Kept with the policy and in the audit log.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope = data.get("scope")
        if scope == PolicyScope.TEAM and not data.get("team"):
            self.add_error("team", "Choose the team this override is for.")
        if scope == PolicyScope.MODEL:
            name = (data.get("model") or "").strip()
            found = RegisteredModel.objects.filter(name__lower=name.lower()).first()
            if found is None:
                self.add_error("model", f"No model named {name!r}." if name else "Name the model.")
            data["model"] = found
        else:
            data["model"] = None
        if scope != PolicyScope.TEAM:
            data["team"] = None
        if scope in (PolicyScope.ORGANISATION, PolicyScope.TEAM) and not data.get("risk_tier"):
            self.add_error("risk_tier", "Choose the risk tier this policy is for.")
        return data

    def where_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("scope", "stage", "risk_tier", "team", "model")]

    def rule_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in RULE_FLAGS]

    def rules(self) -> dict[str, Any]:
        return {n: self.cleaned_data[n] for n in RULE_FLAGS} | {
            "required_sections": list(self.cleaned_data["required_sections"])
        }


def policy_initial(policy: Policy) -> dict[str, Any]:
    """The form's starting values for the next version of `policy`."""
    return {
        "scope": policy.scope,
        "stage": policy.stage,
        "risk_tier": policy.risk_tier,
        "team": policy.team_id,
        "model": policy.model.name if policy.model_id else "",
        "required_approvals": policy.required_approvals,
        "separation_of_duties": policy.separation_of_duties,
        "required_sections": policy.required_sections,
        "require_lineage": policy.require_lineage,
        "require_metadata": policy.require_metadata,
        "allow_skip_staging": policy.allow_skip_staging,
    }


class ThresholdForm(forms.Form):
    metric = forms.CharField(max_length=100)
    dataset = forms.CharField(max_length=200, required=False)
    # The select shows its first option: as the initial value, a row left blank is
    # unchanged and ignored rather than a row missing its metric.
    comparator = forms.ChoiceField(choices=Comparator.choices, initial=Comparator.GTE)
    value = forms.FloatField()


class RegressionForm(forms.Form):
    metric = forms.CharField(max_length=100)
    dataset = forms.CharField(max_length=200, required=False)
    max_drop = forms.FloatField(min_value=0, label="Max drop")


# Blank rows are offered below the policy's rows; a blank row is ignored, a row is removed
# by ticking its Remove box. No script needed (CSP).
ThresholdFormSet = forms.formset_factory(ThresholdForm, extra=2, can_delete=True, max_num=50)
RegressionFormSet = forms.formset_factory(RegressionForm, extra=2, can_delete=True, max_num=50)


def formset_rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]
