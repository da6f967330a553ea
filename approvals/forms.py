"""The browser form for requesting a stage change. It shapes input for
approvals.services.transition_request, which enforces the rules (allowed moves, reason
length); the service's errors are shown next to the fields they concern."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

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
