"""The model card editor: one Markdown textarea per section, saved through card_update."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from .. import services
from ..choices import CARD_SECTION_NAMES
from ..forms import CardForm
from ..permissions import require_edit_model
from ..selectors import card_for, model_get, version_get


@login_required
def card_edit(request, name, number):
    model = model_get(name)
    version = version_get(model, number)
    require_edit_model(request.user, model)
    card = card_for(version)
    form = CardForm(request.POST or None, initial={s: getattr(card, s) for s in CARD_SECTION_NAMES})
    if request.method == "POST" and form.is_valid():
        try:
            card = services.card_update(actor=request.user, card=card, sections=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            filled = len(card.filled_sections)
            messages.success(
                request,
                f"Saved the model card of {model.name} v{version.number}: "
                f"{filled} of {len(CARD_SECTION_NAMES)} sections filled ({card.completeness}%).",
            )
            return redirect("registry:version_detail", name=model.name, number=version.number)
    return render(
        request,
        "registry/card_edit.html",
        {"nav": "catalog", "model": model, "version": version, "card": card, "form": form},
    )
