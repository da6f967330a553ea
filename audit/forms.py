"""The audit page's filter, shared by the events list and the exports."""

from django import forms

from .actions import action_choices
from .selectors import EventFilter


class EventFilterForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        help_text="Inclusive; dates are in UTC.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    model = forms.CharField(required=False, max_length=100, label="Model name")
    actor = forms.CharField(required=False, max_length=150, label="Actor (username or system)")
    action = forms.ChoiceField(
        required=False, choices=lambda: [("", "Any action"), *action_choices()], label="Action"
    )
    transitions_only = forms.BooleanField(required=False, label="Stage transitions only")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def to_filter(self) -> EventFilter:
        data = self.cleaned_data
        return EventFilter(
            date_from=data["date_from"],
            date_to=data["date_to"],
            model=data["model"].strip(),
            actor=data["actor"].strip(),
            action=data["action"],
            transitions_only=data["transitions_only"],
        )
