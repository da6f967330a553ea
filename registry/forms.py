"""Browser forms of the registry. They shape input for a service, which enforces the rules
(license, name format and uniqueness, tags); the forms show the services' errors next to
the fields they concern. Field formats are also checked here with the shared validators,
so that a user sees every mistake in one round."""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from .choices import CARD_SECTION_NAMES, CARD_SECTIONS, DataClassification, RiskTier
from .limits import validate_markdown_size
from .models import ModelCard, RegisteredModel, Team
from .names import name_clash_message
from .selectors import model_named_like, teams_for_user
from .validators import validate_license, validate_model_name

CARD_SECTION_HELP = {
    "model_details": "Who built it and when, the architecture, inputs and outputs.",
    "intended_use": "The decisions it supports, and who may rely on it.",
    "out_of_scope_use": "Uses it was not built or evaluated for.",
    "training_data": "Datasets, time ranges, sampling and known gaps.",
    "evaluation_data": "Hold-out sets and slices, and why they are representative.",
    "metrics_and_results": "Headline metrics, per-slice results, thresholds chosen.",
    "ethical_considerations": "Sensitive data, affected groups, fairness checks done.",
    "caveats_and_limitations": "Where it fails or degrades; drift to watch for.",
    "recommendations": "How to use it well; monitoring and retraining advice.",
}


class ServiceErrorsMixin:
    def add_service_error(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names (others on the form)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


def _help(field: str) -> str:
    return str(RegisteredModel._meta.get_field(field).help_text)


class ModelMetadataForm(ServiceErrorsMixin, forms.Form):
    """Every field of the shared metadata standard; all required except tags."""

    name = forms.CharField(
        max_length=settings.MODEL_NAME_MAX_CHARS,
        help_text=(
            "Letters, digits, '.', '_' or '-'. Unique across the company: names that differ "
            "only in case, look-alike characters or punctuation count as the same name."
        ),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        empty_label=None,
        help_text="The owning team: its members can edit the model.",
    )
    owner = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text=_help("owner") + " A member of the owning team."
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the model does, in a sentence or two.",
        validators=[validate_markdown_size],
    )
    purpose = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_help("purpose"),
        validators=[validate_markdown_size],
    )
    license = forms.CharField(
        max_length=200, validators=[validate_license], help_text=_help("license")
    )
    # No class is preselected: a silent "Public" would be the least safe default.
    data_classification = forms.ChoiceField(
        choices=[("", "Choose a classification…"), *DataClassification.choices],
        help_text=_help("data_classification"),
    )
    evaluation_coverage = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_help("evaluation_coverage"),
        validators=[validate_markdown_size],
    )
    # Only when registering: afterwards governance staff change it, with a reason.
    risk_tier = forms.ChoiceField(
        choices=[("", "Choose a risk tier…"), *RiskTier.choices],
        help_text="How much harm the model can do: it selects the approval policies "
        "(how many approvers, which checks). Only governance staff change it later.",
    )
    tags = forms.CharField(
        required=False,
        max_length=settings.TAGS_MAX_PER_MODEL * 42,  # 40-character tags and ", "
        help_text="Comma-separated, e.g. fraud, payments. Lowercase letters, digits and '-'.",
    )

    def __init__(self, *args, user, model: RegisteredModel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        if model is not None:
            del self.fields["risk_tier"]
        current_team = model.team if model is not None else None
        current_owner = model.owner if model is not None else None
        # Offer only the user's teams (plus the model's own). Any existing team still
        # validates, so that the service, not the form, refuses a team the user isn't
        # in: that is a permission error (403), not a typo.
        offered = list(teams_for_user(user).order_by("name"))
        if current_team is not None and current_team not in offered:
            offered.insert(0, current_team)
        self.offered_teams = offered
        self.fields["team"].choices = [(t.pk, t.name) for t in offered]
        # Offer the members of the offered teams as owners. Any active user still
        # validates: the service checks the owner against the chosen team and says so.
        users = get_user_model().objects.filter(is_active=True)
        self.fields["owner"].queryset = users
        offered_owners = Q(team_memberships__team__in=[t.pk for t in offered])
        if current_owner is not None:
            offered_owners |= Q(pk=current_owner.pk)
        self.fields["owner"].choices = [
            (u.pk, u.get_username())
            for u in users.filter(offered_owners).distinct().order_by("username")
        ]

    def clean_name(self) -> str:
        """A look-alike of an existing name is told which model it collides with, even
        when it would not pass the format check (a Cyrillic letter, a zero-width space)."""
        name = self.cleaned_data["name"]
        clash = model_named_like(name, exclude_pk=self.model.pk if self.model else None)
        if clash is not None:
            raise ValidationError(name_clash_message(name, clash.name), code="name_taken")
        validate_model_name(name)
        return name

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        limit = settings.TAGS_MAX_PER_MODEL
        if len({t.lower() for t in tags}) > limit:
            raise ValidationError(f"At most {limit:,} tags per model.")
        return tags


def model_initial(model: RegisteredModel) -> dict:
    return {
        "name": model.name,
        "team": model.team_id,
        "owner": model.owner_id,
        "description": model.description,
        "purpose": model.purpose,
        "license": model.license,
        "data_classification": model.data_classification,
        "evaluation_coverage": model.evaluation_coverage,
        "tags": ", ".join(t.name for t in model.tags.all()),
    }


def section_digest(text: str) -> str:
    """A short fingerprint of a section's text as the editor started from it."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8", "replace")).hexdigest()[:16]


class CardForm(ServiceErrorsMixin, forms.Form):
    """One Markdown textarea per model card section, in the card's order, a "reviewed"
    checkbox per section inherited from an earlier version, and, hidden, the revision
    the edit started from and a fingerprint of each section's text at that revision
    (to tell, after someone else's save, which sections the user changed)."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    base = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, card: ModelCard | None = None, **kwargs):
        card = card or ModelCard()
        self.card = card
        super().__init__(*args, **kwargs)
        self.fields["revision"].initial = card.revision
        self.fields["base"].initial = self.digests(card)
        for name, title in CARD_SECTIONS:
            self.fields[name] = forms.CharField(
                label=title,
                required=False,
                strip=False,  # trailing spaces are Markdown line breaks
                help_text=CARD_SECTION_HELP.get(name, ""),
                validators=[validate_markdown_size],
                initial=getattr(card, name),
                widget=forms.Textarea(
                    attrs={
                        "rows": 6,
                        "data-card-section": name,
                        "data-counts": "true" if card.section_counts(name) else "false",
                    }
                ),
            )
            self.fields[f"confirm_{name}"] = forms.BooleanField(
                label="Reviewed: keep this text for this version",
                required=False,
                widget=forms.CheckboxInput(attrs={"data-confirms": name}),
            )

    @staticmethod
    def digests(card: ModelCard) -> str:
        return ",".join(section_digest(getattr(card, n)) for n in CARD_SECTION_NAMES)

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in CARD_SECTION_NAMES}

    def confirmed(self) -> list[str]:
        return [n for n in CARD_SECTION_NAMES if self.cleaned_data.get(f"confirm_{n}")]

    def rebase(self, current: ModelCard) -> tuple["CardForm", list[str]]:
        """After a refused stale save: a form on top of `current` that keeps the user's
        own changes, takes the other person's changes to sections the user left alone,
        and lists the sections both changed differently (to show side by side)."""
        base = (self.data.get("base") or "").split(",")
        data = self.data.copy()
        clashes = []
        for i, name in enumerate(CARD_SECTION_NAMES):
            started = base[i] if len(base) == len(CARD_SECTION_NAMES) else None
            theirs = getattr(current, name)
            mine = self.data.get(name, "").replace("\r\n", "\n")
            they_changed = started != section_digest(theirs)
            i_changed = started != section_digest(mine)
            if they_changed and not i_changed:
                data[name] = theirs
            elif they_changed and mine != theirs:
                clashes.append(name)
        data["revision"] = str(current.revision)
        data["base"] = self.digests(current)
        return CardForm(data, card=current), clashes
