"""MLflow's model registry REST API (model_registry.proto), served over Modelgate's
services. Each view parses MLflow's parameters, calls one service or selector and
answers in MLflow's JSON; every error is MLflow's `{"error_code", "message"}`."""

from functools import wraps

from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from approvals.models import RequestState
from approvals.services import alias_assign, transition_request
from registry.models import ModelVersion, RegisteredModel
from registry.selectors import alias_names_prefetch, alias_resolve, model_get, model_named_like
from registry.services import (
    alias_delete,
    model_create,
    model_update,
    version_register,
    version_update,
)

from . import artifacts
from .auth import authenticated_user
from .errors import MlflowError, error_response, invalid, not_found, translate
from .filters import models_in_order, models_matching, versions_matching
from .mapping import model_create_kwargs, model_tag_changes, version_register_kwargs
from .paging import page
from .params import Params
from .serializers import (
    MODELGATE_STAGE,
    for_answer,
    latest_versions,
    model_version_json,
    registered_models_json,
    version_source,
)
from .tags import parse_tag_list

MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS = 10000  # MLflow's client asks for up to this many by default
NEVER_DELETED = (
    "Modelgate keeps every registered model and version for the audit trail; nothing is "
    "deleted. Archive a version with a transition request instead."
)


def endpoint(*methods: str):
    """An MLflow endpoint: authenticated by token or Basic credentials (never a session
    cookie, so CSRF does not apply), JSON in, JSON out, domain errors as MLflow errors."""

    def decorate(handler):
        @csrf_exempt
        @wraps(handler)
        def view(request, **kwargs):
            if request.method not in methods:
                return error_response(
                    "ENDPOINT_NOT_FOUND",
                    f"{request.path} takes {' or '.join(methods)}, not {request.method}.",
                    status=405,
                )
            try:
                user = authenticated_user(request)
                answer = handler(request, user, Params.of(request), **kwargs)
            except Exception as exc:
                error = translate(exc)
                if error is None:
                    raise
                return error.response()
            return answer if not isinstance(answer, dict) else JsonResponse(answer)

        return view

    return decorate


def _model(name: str):
    try:
        return model_get(name)
    except Http404:
        raise not_found(f"Registered Model with name={name} not found") from None


def _version(name: str, number: int) -> ModelVersion:
    model = _model(name)
    version = (
        ModelVersion.objects.select_related("created_by")
        .prefetch_related(alias_names_prefetch())
        .filter(model=model, number=number)
        .first()
    )
    if version is None:
        raise not_found(f"Model Version (name={model.name}, version={number}) not found")
    version.model = model
    return version


def _model_for_answer(name: str):
    """The model named `name` (any case) as `registered_models_json` reads it."""
    model = for_answer(RegisteredModel.objects.filter(name__lower=name.lower())).first()
    if model is None:
        raise not_found(f"Registered Model with name={name} not found")
    return model


def _model_answer(name: str) -> dict:
    return {"registered_model": registered_models_json([_model_for_answer(name)])[0]}


def _stages(raw: list[str]) -> list[str] | None:
    if not raw:
        return None
    try:
        return [MODELGATE_STAGE[s.lower()] for s in raw]
    except KeyError:
        raise invalid(
            f"Invalid stages {raw!r}: choose from None, Staging, Production, Archived."
        ) from None


# --- registered models -------------------------------------------------------------------


@endpoint("POST")
def registered_model_create(request, user, params):
    name = params.text("name", required=True).strip()
    clash = model_named_like(name)
    if clash is not None:
        raise MlflowError(
            "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={clash.name}) already exists."
        )
    tags = parse_tag_list(params.data.get("tags"), what="tags")
    kwargs = model_create_kwargs(
        actor=user, name=name, description=params.text("description"), tags=tags
    )
    model = model_create(actor=user, **kwargs)
    return _model_answer(model.name)


@endpoint("GET")
def registered_model_get(request, user, params):
    return _model_answer(params.text("name", required=True))


@endpoint("POST")
def registered_model_rename(request, user, params):
    model = _model(params.text("name", required=True))
    model = model_update(actor=user, model=model, name=params.text("new_name", required=True))
    return _model_answer(model.name)


@endpoint("PATCH")
def registered_model_update(request, user, params):
    model = _model(params.text("name", required=True))
    if "description" in params.data:
        model = model_update(actor=user, model=model, description=params.text("description"))
    return _model_answer(model.name)


@endpoint("DELETE")
def registered_model_delete(request, user, params):
    _model(params.text("name", required=True))
    raise MlflowError("PERMISSION_DENIED", NEVER_DELETED)


@endpoint("GET")
def registered_model_search(request, user, params):
    max_results = params.integer("max_results", default=100, least=1, most=MODELS_MAX_RESULTS)
    text, order_by = params.text("filter"), params.strings("order_by")
    matching = models_matching(text, order_by)
    models, token = page(
        matching.values("pk"),
        max_results=max_results,
        token=params.text("page_token"),
        query=(text, order_by),
        read=lambda page_ids: for_answer(models_in_order(matching, page_ids)),
    )
    answer = {"registered_models": registered_models_json(models)}
    if token:
        answer["next_page_token"] = token
    return answer


@endpoint("POST", "GET")
def registered_model_latest_versions(request, user, params):
    model = _model_for_answer(params.text("name", required=True))
    latest, _ = latest_versions([model], _stages(params.strings("stages")))
    return {"model_versions": latest[model.pk]}


@endpoint("POST")
def registered_model_set_tag(request, user, params):
    model = _model(params.text("name", required=True))
    key = params.text("key", required=True)
    value = params.data.get("value", "")
    if not isinstance(value, str):
        raise invalid("Parameter 'value' must be a string.")
    model_update(actor=user, model=model, **model_tag_changes(model, key, value))
    return {}


@endpoint("DELETE")
def registered_model_delete_tag(request, user, params):
    model = _model(params.text("name", required=True))
    key = params.text("key", required=True)
    model_update(actor=user, model=model, **model_tag_changes(model, key, None))
    return {}


# --- model versions ----------------------------------------------------------------------


@endpoint("POST")
def model_version_create(request, user, params):
    model = _model(params.text("name", required=True))
    tags = parse_tag_list(params.data.get("tags"), what="tags")
    kwargs = version_register_kwargs(model=model, params=params, tags=tags)
    version = version_register(actor=user, model=model, **kwargs)
    # The version as registration read it before its commit: no further round trip.
    return {"model_version": model_version_json(version.snapshot)}


@endpoint("GET")
def model_version_get(request, user, params):
    version = _version(params.text("name", required=True), params.version())
    return {"model_version": model_version_json(version)}


@endpoint("PATCH")
def model_version_update(request, user, params):
    version = _version(params.text("name", required=True), params.version())
    if "description" in params.data:
        version_update(actor=user, version=version, release_notes=params.text("description"))
    return {"model_version": model_version_json(_version(version.model.name, version.number))}


@endpoint("DELETE")
def model_version_delete(request, user, params):
    _version(params.text("name", required=True), params.version())
    raise MlflowError("PERMISSION_DENIED", NEVER_DELETED)


@endpoint("POST")
def model_version_transition_stage(request, user, params):
    version = _version(params.text("name", required=True), params.version())
    stage = _stages([params.text("stage", required=True)])[0]
    filed = transition_request(
        actor=user,
        version=version,
        to_stage=stage,
        reason=(
            f"Requested through the MLflow API (transition_model_version_stage to "
            f"{params.text('stage')}) by {user.get_username()}."
        ),
    )
    filed.refresh_from_db(fields=["state"])  # a policy needing no approval applies at once
    if filed.state == RequestState.APPLIED:
        return {"model_version": model_version_json(_version(version.model.name, version.number))}
    raise _awaits_approval(
        request,
        filed,
        f"The transition of {version.model.name} version {version.number} to "
        f"{params.text('stage')}",
    )


def _awaits_approval(request, filed, what: str) -> MlflowError:
    url = request.build_absolute_uri(reverse("approvals:request", args=[filed.pk]))
    return MlflowError(
        "PERMISSION_DENIED",
        f"{what} awaits approval: Modelgate filed request #{filed.pk} ({url}); it takes "
        "effect when the model's approvers approve it.",
    )


@endpoint("GET")
def model_version_search(request, user, params):
    max_results = params.integer(
        "max_results", default=VERSIONS_MAX_RESULTS, least=1, most=VERSIONS_MAX_RESULTS
    )
    text, order_by = params.text("filter"), params.strings("order_by")
    rows = (
        versions_matching(text, order_by)
        .select_related("model", "created_by")
        .prefetch_related(alias_names_prefetch())
    )
    versions, token = page(
        rows, max_results=max_results, token=params.text("page_token"), query=(text, order_by)
    )
    answer = {"model_versions": [model_version_json(v) for v in versions]}
    if token:
        answer["next_page_token"] = token
    return answer


@endpoint("GET")
def model_version_download_uri(request, user, params):
    version = _version(params.text("name", required=True), params.version())
    source = version_source(version)
    if not source:
        raise not_found(
            f"{version.model.name} version {version.number} has no artifact; upload one to "
            "the version in Modelgate."
        )
    return {"artifact_uri": source}


@endpoint("POST")
def model_version_set_tag(request, user, params):
    _version(params.text("name", required=True), params.version())
    raise invalid(
        "A Modelgate version's facts are fixed when it is registered: give its tags to "
        "create_model_version. Only its description can change."
    )


@endpoint("DELETE")
def model_version_delete_tag(request, user, params):
    _version(params.text("name", required=True), params.version())
    raise invalid("A Modelgate version's tags are fixed when it is registered.")


# --- aliases ------------------------------------------------------------------------------


@endpoint("POST", "GET", "DELETE")
def registered_model_alias(request, user, params):
    """One address, three calls, as in MLflow: set (POST), get-by-alias (GET), delete."""
    model = _model(params.text("name", required=True))
    alias = params.text("alias", required=True)
    if request.method == "GET":
        try:
            version = alias_resolve(model, alias)
        except Http404:
            raise not_found(f"Registered model alias {alias} not found.") from None
        return {"model_version": model_version_json(_version(model.name, version.number))}
    if request.method == "DELETE":
        alias_delete(actor=user, model=model, name=alias)
        return {}
    version = _version(model.name, params.version())
    _, filed = alias_assign(
        actor=user,
        model=model,
        name=alias,
        version=version,
        reason=(
            f"Requested through the MLflow API (set_registered_model_alias {alias} to "
            f"version {version.number}) by {user.get_username()}."
        ),
    )
    if filed is not None:
        filed.refresh_from_db(fields=["state"])  # a policy needing no approval applies at once
        if filed.state != RequestState.APPLIED:
            raise _awaits_approval(
                request, filed, f"Pointing alias {alias!r} at version {version.number}"
            )
    return {}


# --- the artifact proxy (read-only) ------------------------------------------------------


@endpoint("GET")
def artifacts_list(request, user, params):
    path = params.text("path")
    if not path.strip("/"):
        return {"files": []}
    version, inner = artifacts.version_at(path)
    return {"files": artifacts.list_directory(actor=user, version=version, inner=inner)}


@endpoint("GET")
def artifact_download(request, user, params, path: str):
    version, inner = artifacts.version_at(path)
    if not inner:
        raise invalid("Name a file inside the version's directory.")
    chunks, size = artifacts.open_file(actor=user, version=version, inner=inner)
    response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
    response["Content-Length"] = str(size)
    return response


@csrf_exempt
def unknown_endpoint(request, path: str = ""):
    return error_response(
        "ENDPOINT_NOT_FOUND", f"{request.path} is not an endpoint of Modelgate's MLflow API."
    )
