"""The Teams pages' forms. They shape input for registry.services.teams, which enforces
the rules (who may, unique names, the last maintainer) and whose errors they show."""

from django import forms
from django.contrib.auth import get_user_model

from .choices import TeamRole
from .forms import ServiceErrorsMixin
from .models import Team


class TeamCreateForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        max_length=Team._meta.get_field("name").max_length,
        help_text="Unique across the company, ignoring case, e.g. “Fraud Detection”.",
    )
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the team works on; shown to admins.",
    )


class TeamMemberAddForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(
        max_length=150, help_text="The person's Modelgate user name, as they sign in with it."
    )
    role = forms.ChoiceField(
        choices=TeamRole.choices,
        required=False,  # a plain member unless said otherwise
        initial=TeamRole.MEMBER,
        help_text="Members edit the team's models; maintainers also manage its members.",
    )

    def clean_role(self):
        return self.cleaned_data["role"] or TeamRole.MEMBER

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"There is no active user named “{username}”.")
        self.user = user
        return username
