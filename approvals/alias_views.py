"""The model page's alias forms: set or move an alias (a protected one files a request
for the model's Production approvers), and delete one.

Here rather than in registry's views because a protected alias goes through approvals
(approvals.services.alias_assign); the registry does not import approvals.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from registry.errors import Conflict, RegistryError
from registry.models import ModelVersion
from registry.permissions import require_edit_model
from registry.selectors import model_aliases, model_get
from registry.services import alias_delete, aliases_protected

from . import services
from .forms import AliasForm
from .models import RequestState


def _aliases_url(model) -> str:
    return reverse("registry:model_detail", args=[model.name]) + "#aliases"


@login_required
def alias_set(request, name: str):
    """GET: the form on its own page; POST: set, move, or request the alias."""
    model = model_get(name)
    require_edit_model(request.user, model)
    form = AliasForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            number = form.cleaned_data["version"]
            version = ModelVersion.objects.filter(model=model, number=number).first()
            if version is None:
                form.add_error("version", f"{model.name} has no version {number}.")
            else:
                try:
                    alias, filed = services.alias_assign(
                        actor=request.user,
                        model=model,
                        name=form.cleaned_data["name"],
                        version=version,
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    form.add_service_error(exc)
                except (PermissionDenied, RegistryError) as exc:
                    messages.error(request, str(exc))
                    status = 409 if isinstance(exc, Conflict) else 403
                else:
                    if filed is None:
                        messages.success(request, f"{alias.name} now points at v{number}.")
                        return redirect(_aliases_url(model))
                    if filed.state == RequestState.APPLIED:
                        messages.success(request, f"{filed.alias} now points at v{number}.")
                    else:
                        messages.success(
                            request,
                            f"{filed.alias} is protected: request #{filed.pk} is filed and "
                            f"waits for the Production approvers of {model.name}.",
                        )
                    return redirect("approvals:request", pk=filed.pk)
        if form.errors:
            status = 400
    return render(
        request,
        "approvals/alias_form.html",
        {
            "nav": "catalog",
            "model": model,
            "form": form,
            "aliases": model_aliases(model),
            "protected": sorted(aliases_protected()),
        },
        status=status,
    )


@login_required
@require_POST
def alias_remove(request, name: str):
    model = model_get(name)
    alias = request.POST.get("name", "")
    try:  # no edit rights: PermissionDenied, the 403 page
        alias_delete(actor=request.user, model=model, name=alias)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The alias {alias} is deleted.")
    return redirect(_aliases_url(model))
