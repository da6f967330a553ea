"""The model card editor: one Markdown textarea per section, saved through card_update.

The form carries the revision the edit started from. A save refused because someone
else saved meanwhile answers 409 with the same form on top of the new revision: the
user's text kept, the other person's text shown beside it for every section both
changed, so saving again writes the user's version knowingly."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from .. import services
from ..choices import CARD_SECTION_NAMES
from ..errors import CardChanged
from ..forms import CardForm
from ..permissions import require_edit_model
from ..selectors import card_for, card_sections, model_get, version_get


@login_required
def card_edit(request, name, number):
    model = model_get(name)
    version = version_get(model, number)
    require_edit_model(request.user, model)
    card = card_for(version)
    form = CardForm(request.POST or None, card=card)
    clashes: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            card = services.card_update(
                actor=request.user,
                card=card,
                sections=form.sections(),
                confirm=form.confirmed(),
                revision=form.cleaned_data["revision"],
            )
        except CardChanged as exc:
            card = exc.card
            form, clashes = form.rebase(card)
            status = 409
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
    sections = card_sections(card)
    rows = [
        {
            "section": section,
            "field": form[section.name],
            "confirm": form[f"confirm_{section.name}"],
            "clash": section.name in clashes,
            "yours": form.data.get(section.name, "") if section.name in clashes else "",
        }
        for section in sections
    ]
    return render(
        request,
        "registry/card_edit.html",
        {
            "nav": "catalog",
            "model": model,
            "version": version,
            "card": card,
            "form": form,
            "rows": rows,
            "clashes": clashes,
            "conflict": status == 409,
        },
        status=status,
    )
