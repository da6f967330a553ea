"""Build the demo organisation through the services, so every change is audited.

`demo_build()` is what `manage.py demo` and `manage.py rundemo` call. It runs in one
transaction: either the whole organisation appears or nothing does. Values that would
come from a pipeline (metrics, commit SHAs, run ids) are derived deterministically
from the model name and version, so two builds look the same.

Stages are reached the only way they can be: governance names the approvers, team
members file transition requests and the approvers review them (approvals.services),
so the catalog, the inboxes and the audit log show a history that really happened.
"""

import hashlib
import json
import logging
import random
import secrets
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.db import transaction
from django.test.utils import override_settings

from approvals.models import RequestState, TransitionRequest
from approvals.services import (
    approver_grant,
    review_approve,
    review_reject,
    transition_request,
)
from registry.choices import TeamRole
from registry.models import ModelVersion, RegisteredModel, Team
from registry.services import (
    card_update,
    model_create,
    model_permission_grant,
    team_create,
    team_member_add,
    version_register,
)

from .content import (
    APPROVER_STAGES,
    DEMO_PASSWORD,
    GRANTS,
    GROUP_APPROVERS,
    HISTORY,
    MARKER_TEAM,
    MODEL_APPROVERS,
    MODELS,
    PEOPLE,
    TEAM_APPROVERS,
    TEAMS,
    ModelSpec,
)

User = get_user_model()

AUDITORS_GROUP = "Auditors"
GOVERNANCE_GROUP = "Governance"  # created with its permissions by approvals' migration
EXPORT_PERM = ("audit", "export_auditevent")


@dataclass
class Login:
    username: str
    password: str
    role: str


@dataclass
class DemoResult:
    created: bool
    logins: list[Login]
    teams: int = 0
    models: int = 0
    versions: int = 0
    applied: int = 0  # transition requests applied
    waiting: int = 0  # open or blocked
    rejected: int = 0


def demo_exists() -> bool:
    return Team.objects.filter(name=MARKER_TEAM).exists()


def demo_logins(passwords: dict[str, str] | None = None) -> list[Login]:
    fallback = DEMO_PASSWORD if settings.DEBUG else "(as printed when the demo was created)"
    return [Login(p.username, (passwords or {}).get(p.username, fallback), p.role) for p in PEOPLE]


def _seed(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, parts)).encode()))


def _sha1(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


# --- Metrics that drift plausibly from version to version ---------------------------------
# (name, dataset, start value, step per version, higher_is_better, decimals)
METRIC_FAMILIES: dict[str, list[tuple[str, str, float, float, bool, int]]] = {
    "binary": [
        ("auc", "holdout", 0.912, 0.006, True, 4),
        ("f1", "holdout", 0.612, 0.015, True, 4),
        ("precision", "holdout", 0.701, 0.012, True, 4),
        ("recall", "holdout", 0.548, 0.017, True, 4),
        ("latency_p95_ms", "", 38.0, -2.5, False, 1),
    ],
    "regression": [
        ("mae", "backtest", 412.0, -21.0, False, 1),
        ("rmse", "backtest", 655.0, -30.0, False, 1),
        ("r2", "backtest", 0.61, 0.03, True, 3),
    ],
    "ranking": [
        ("ndcg@10", "judged-queries", 0.671, 0.008, True, 4),
        ("mrr", "judged-queries", 0.542, 0.009, True, 4),
        ("recall@100", "judged-queries", 0.881, 0.006, True, 4),
        ("latency_p95_ms", "", 24.0, -1.2, False, 1),
    ],
    "embedding": [
        ("recall@10", "judged-queries", 0.702, 0.02, True, 4),
        ("mrr", "judged-queries", 0.488, 0.015, True, 4),
        ("latency_p95_ms", "cpu", 9.5, -1.8, False, 1),
    ],
    "text_classification": [
        ("accuracy", "holdout", 0.874, 0.008, True, 4),
        ("macro_f1", "holdout", 0.791, 0.012, True, 4),
        ("latency_p95_ms", "gpu-t4", 31.0, -2.0, False, 1),
    ],
    "language_model": [
        ("perplexity", "heldout-conversations", 7.9, -0.6, False, 3),
        ("latency_p95_ms", "gpu-t4", 18.0, -0.5, False, 1),
    ],
    "generation": [
        ("rouge_l", "agent-replies", 0.318, 0.021, True, 4),
        ("acceptance_rate", "human-review", 0.41, 0.06, True, 3),
        ("toxicity_rate", "screen-50k", 0.0031, -0.0007, False, 5),
        ("latency_p95_ms", "gpu-a10", 840.0, -60.0, False, 1),
    ],
    "ocr": [
        ("character_error_rate", "invoices", 0.062, -0.008, False, 4),
        ("field_accuracy", "invoices", 0.903, 0.013, True, 4),
        ("field_accuracy", "id-scans", 0.861, 0.017, True, 4),
        ("latency_p95_ms", "gpu-t4", 420.0, -35.0, False, 1),
    ],
    "detection": [
        ("map@0.5", "holdout", 0.604, 0.021, True, 4),
        ("precision", "holdout", 0.772, 0.011, True, 4),
        ("recall", "holdout", 0.655, 0.018, True, 4),
        ("latency_p95_ms", "cpu", 61.0, -4.0, False, 1),
    ],
}


def version_metrics(spec: ModelSpec, index: int) -> list[dict]:
    """Metrics for the index-th version: a trend with noise and the odd regression."""
    rng = _seed(spec.name, index)
    metrics = []
    for name, dataset, start, step, hib, decimals in METRIC_FAMILIES[spec.metric_family]:
        regression = rng.random() < 0.2 and index > 0
        value = start + step * index * (1 + rng.uniform(-0.4, 0.4))
        if regression:
            value -= step * rng.uniform(0.5, 1.5)
        if 0 < start < 1 and hib:
            value = min(value, 0.995)
        value = max(value, 10**-decimals)
        metrics.append(
            {
                "name": name,
                "dataset": dataset,
                "value": round(value, decimals),
                "higher_is_better": hib,
            }
        )
    return metrics


def version_params(spec: ModelSpec, framework: str, index: int) -> dict:
    rng = _seed(spec.name, "params", index)
    if framework in ("xgboost", "lightgbm"):
        params = {
            "n_estimators": 300 + 100 * index + rng.choice([0, 50]),
            "max_depth": rng.choice([6, 8, 10]),
            "learning_rate": rng.choice([0.03, 0.05, 0.08]),
            "subsample": rng.choice([0.7, 0.8, 0.9]),
            "colsample_bytree": rng.choice([0.6, 0.8]),
        }
        if framework == "lightgbm":
            params["num_leaves"] = rng.choice([63, 127, 255])
        return params
    if framework == "sklearn":
        return {"n_estimators": 200, "contamination": 0.01, "C": rng.choice([0.1, 1.0, 10.0])}
    if framework == "transformers":
        return {
            "learning_rate": rng.choice([2e-5, 3e-5, 5e-5]),
            "epochs": rng.choice([3, 4, 5]),
            "batch_size": rng.choice([32, 64]),
            "max_seq_length": 256,
            "warmup_ratio": 0.06,
            "fp16": True,
        }
    if framework == "onnx":
        return {"opset": 17, "quantization": "int8-dynamic", "exported_from": "pytorch"}
    return {
        "learning_rate": rng.choice([1e-3, 3e-4, 1e-4]),
        "batch_size": rng.choice([128, 256, 512]),
        "epochs": rng.choice([10, 20, 30]),
        "optimizer": rng.choice(["adamw", "sgd"]),
        "weight_decay": 0.01,
    }


def _run_reference(spec: ModelSpec, label: str) -> dict[str, str]:
    if spec.run_system == "wandb":
        run_id = _sha1(spec.name, label, "run")[:8]
        team = spec.team.split()[0].lower()
        return {
            "run_system": "wandb",
            "run_id": run_id,
            "run_url": f"https://wandb.example.com/acme/{team}/runs/{run_id}",
        }
    run_id = _sha1(spec.name, label, "run")[:32]
    experiment = zlib.crc32(spec.name.encode()) % 90 + 10
    return {
        "run_system": "mlflow",
        "run_id": run_id,
        "run_url": f"https://mlflow.example.com/#/experiments/{experiment}/runs/{run_id}",
    }


ARTIFACT_FILES = {
    "xgboost": "model.ubj",
    "lightgbm": "model.txt",
    "sklearn": "model.joblib",
    "pytorch": "model.pt",
    "transformers": "model.safetensors",
    "onnx": "model.onnx",
    "tensorflow": "saved_model.zip",
}


def _artifact(spec: ModelSpec, label: str, framework: str) -> dict:
    filename = ARTIFACT_FILES.get(framework, "model.bin")
    if label in spec.no_artifact:
        return {}
    if label in spec.uploads:
        # A few KB standing in for the weights: enough to download and checksum.
        header = json.dumps({"model": spec.name, "version": label, "framework": framework})
        payload = header.encode() + b"\n" + bytes(_seed(spec.name, label).randbytes(4096))
        return {"artifact": ContentFile(payload, name=filename)}
    bucket = "ml-models-" + spec.team.split()[0].lower().strip("&")
    return {"artifact_uri": f"s3://{bucket}/{spec.name}/{label}/{filename}"}


def _data_versions(spec: ModelSpec, index: int) -> list[dict]:
    snapshot = f"2024-{3 + 2 * index:02d}-01" if index < 5 else f"2025-{index - 4:02d}-01"
    return [
        {
            "dataset": dataset,
            "version_or_uri": f"s3://datalake/{dataset.replace('.', '/')}/snapshot={snapshot}",
            "content_hash": "sha256:" + hashlib.sha256(f"{dataset}{snapshot}".encode()).hexdigest(),
            "classification": classification,
        }
        for dataset, classification in spec.datasets
    ]


def _release_notes(spec: ModelSpec, index: int, label: str, metrics: list[dict]) -> str:
    if index == 0:
        return f"First registered version of {spec.name}."
    headline = metrics[0]
    return (
        f"Retrained on the {_data_versions(spec, index)[0]['version_or_uri'].rsplit('=', 1)[1]} "
        f"snapshot. {headline['name']} on {headline['dataset'] or 'default'}: "
        f"{headline['value']}."
    )


# --- Model cards --------------------------------------------------------------------------
def card_sections(spec: ModelSpec, label: str, metrics: list[dict]) -> dict[str, str]:
    facts = spec.facts
    metric_rows = "\n".join(
        f"| {m['name']} | {m['dataset'] or '-'} | {m['value']} | "
        f"{'higher' if m['higher_is_better'] else 'lower'} is better |"
        for m in metrics
    )
    return {
        "model_details": (
            f"**{spec.name}** is maintained by {spec.team}.\n\n"
            f"- Architecture: {facts['architecture']}\n"
            f"- Inputs: {facts['inputs']}\n"
            f"- Output: {facts['output']}\n"
            f"- License: {spec.license}"
        ),
        "intended_use": f"{spec.purpose}\n\nPrimary users: the {spec.team} team and the "
        "product teams that call its serving endpoint.",
        "out_of_scope_use": (
            "- Any decision about a person without the human review described below.\n"
            "- Markets, languages or products that are not in the evaluation coverage.\n"
            "- Use as a general-purpose model outside its documented inputs."
        ),
        "training_data": f"{facts['training'].capitalize()}.\n\nDatasets: "
        + ", ".join(f"`{d}` ({c})" for d, c in spec.datasets)
        + ".",
        "evaluation_data": spec.coverage,
        "metrics_and_results": (
            f"Results for version {label}:\n\n| metric | dataset | value | direction |\n"
            f"|---|---|---|---|\n{metric_rows}"
        ),
        "ethical_considerations": f"{facts['risk'].capitalize()}.",
        "caveats_and_limitations": (
            "Performance degrades when the input distribution drifts from the training "
            "window; the team monitors population stability weekly and retrains monthly."
        ),
        "recommendations": (
            "Re-validate thresholds after every retrain, and read the latest evaluation "
            "slices before widening the model to a new market or channel."
        ),
    }


GROWING_FIRST = ("model_details", "intended_use", "training_data")
PARTIAL = ("model_details", "intended_use", "training_data", "metrics_and_results")


def _card_changes(
    spec: ModelSpec, index: int, count: int, sections: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(sections written for this version, inherited sections reviewed and kept). A
    model's newest version leaves some inherited text unreviewed, as a retrain that was
    just registered would, so the demo shows both."""
    newest = index == count - 1 and not spec.newest_card_complete
    if spec.card == "full":
        if index == 0:
            return sections, []
        kept = [name for name in sections if name != "metrics_and_results"]
        return {"metrics_and_results": sections["metrics_and_results"]}, (
            kept[:3] if newest else kept
        )
    if spec.card == "growing":
        if index == 0:
            return {k: sections[k] for k in GROWING_FIRST}, []
        if newest:  # the rest is written; the first sections are reviewed again
            rest = {k: v for k, v in sections.items() if k not in GROWING_FIRST}
            return rest, list(GROWING_FIRST)
        return {}, list(GROWING_FIRST)
    if spec.card == "partial" and index == 1:
        return {k: sections[k] for k in PARTIAL}, []
    return {}, []


# --- People -------------------------------------------------------------------------------
class DemoError(Exception):
    pass


def _create_people(passwords: dict[str, str]) -> dict[str, object]:
    """Create the demo people. An account that already exists is used as it is (its
    password is never reset); its row in the logins table says so."""
    users = {}
    for person in PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User.objects.create_user(
                person.username,
                f"{person.username}@example.com",
                passwords[person.username],
                first_name=person.first_name,
                last_name=person.last_name,
                is_superuser=person.superuser,
                is_staff=person.superuser,
            )
        else:
            if person.superuser and not user.is_superuser:
                raise DemoError(
                    f"A user named {person.username!r} exists but is not a superuser; the demo "
                    "needs that name for its platform admin. Use a fresh database."
                )
            passwords[person.username] = "(existing account, unchanged)"
        users[person.username] = user
    return users


def _auditors_group():
    group, _ = Group.objects.get_or_create(name=AUDITORS_GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label=EXPORT_PERM[0], codename=EXPORT_PERM[1])
    )
    return group


# --- The whole organisation -----------------------------------------------------------------
def _register_versions(spec: ModelSpec, model: RegisteredModel, actor) -> list[ModelVersion]:
    versions = []
    for index, label in enumerate(spec.labels):
        framework = spec.frameworks[index] if len(spec.frameworks) > 1 else spec.frameworks[0]
        metrics = version_metrics(spec, index)
        parents = [
            (
                ModelVersion.objects.select_related("model").get(
                    model__name=parent_model, label=parent_label
                ),
                relation,
            )
            for parent_model, parent_label, relation in spec.parents.get(label, ())
        ]
        version = version_register(
            actor=actor,
            model=model,
            label=label,
            framework=framework,
            flavor=spec.flavor,
            code_repository=spec.repo,
            code_commit=_sha1(spec.name, label, "commit"),
            hyperparameters=version_params(spec, framework, index),
            release_notes=_release_notes(spec, index, label, metrics),
            metrics=metrics,
            data_versions=_data_versions(spec, index),
            parents=parents,
            **_run_reference(spec, label),
            **_artifact(spec, label, framework),
        )
        if spec.facts:
            changes, confirm = _card_changes(
                spec, index, len(spec.labels), card_sections(spec, label, metrics)
            )
            if changes or confirm:
                card_update(actor=actor, card=version.card, sections=changes, confirm=confirm)
        versions.append(version)
    return versions


def demo_build() -> DemoResult:
    """Create the demo organisation, or do nothing if it is already there."""
    # The history's requests would email every approver after commit (to the console in
    # the embedded setup, with a log line per task), burying the logins under dozens of
    # messages about the past.
    trace = logging.getLogger("celery.app.trace")
    level = trace.level
    trace.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            return _build()
    finally:
        trace.setLevel(level)


@transaction.atomic
def _build() -> DemoResult:
    if demo_exists():
        return DemoResult(created=False, logins=demo_logins())
    passwords = {
        p.username: DEMO_PASSWORD if settings.DEBUG else secrets.token_urlsafe(12) for p in PEOPLE
    }
    users = _create_people(passwords)
    admin = users["admin"]
    auditors = _auditors_group()

    teams = {name: team_create(actor=admin, name=name, description=desc) for name, desc in TEAMS}
    for person in PEOPLE:
        for team_name in person.teams:
            role = TeamRole.MAINTAINER if team_name in person.maintains else TeamRole.MEMBER
            team_member_add(
                actor=admin, team=teams[team_name], user=users[person.username], role=role
            )
        if person.auditor:
            users[person.username].groups.add(auditors)
        if person.governance:
            users[person.username].groups.add(Group.objects.get(name=GOVERNANCE_GROUP))
        for group_name in person.groups:
            users[person.username].groups.add(Group.objects.get_or_create(name=group_name)[0])

    models, versions = {}, 0
    for spec in MODELS:
        owner = users[spec.owner]
        models[spec.name] = model_create(
            actor=owner,
            name=spec.name,
            team=teams[spec.team],
            owner=owner,
            description=spec.description,
            purpose=spec.purpose,
            license=spec.license,
            data_classification=spec.classification,
            evaluation_coverage=spec.coverage,
            risk_tier=spec.risk_tier,
            tags=spec.tags,
        )
        versions += len(_register_versions(spec, models[spec.name], owner))

    owners = {spec.name: users[spec.owner] for spec in MODELS}
    for model_name, username in GRANTS:
        model_permission_grant(
            actor=owners[model_name], model=models[model_name], user=users[username]
        )
    governance = next(users[p.username] for p in PEOPLE if p.governance)
    _name_approvers(governance, teams, models, users)
    states = _play_history(models, users)

    return DemoResult(
        created=True,
        logins=demo_logins(passwords),
        teams=len(teams),
        models=len(models),
        versions=versions,
        applied=states.count(RequestState.APPLIED),
        waiting=states.count(RequestState.OPEN) + states.count(RequestState.BLOCKED),
        rejected=states.count(RequestState.REJECTED),
    )


def _name_approvers(governance, teams, models, users) -> None:
    for stage in APPROVER_STAGES:
        for team_name, usernames in TEAM_APPROVERS.items():
            for username in usernames:
                approver_grant(
                    actor=governance, stage=stage, team=teams[team_name], user=users[username]
                )
        for model_name, usernames in MODEL_APPROVERS.items():
            for username in usernames:
                approver_grant(
                    actor=governance, stage=stage, model=models[model_name], user=users[username]
                )
        for model_name, group_names in GROUP_APPROVERS.items():
            for group_name in group_names:
                approver_grant(
                    actor=governance,
                    stage=stage,
                    model=models[model_name],
                    group=Group.objects.get(name=group_name),
                )


def _play_history(models, users) -> list[str]:
    """File each request of HISTORY and review it; the states the requests end in."""
    states = []
    for step in HISTORY:
        version = ModelVersion.objects.get(model=models[step.model], number=step.number)
        request = transition_request(
            actor=users[step.requester], version=version, to_stage=step.to_stage, reason=step.reason
        )
        for username in step.approvals:
            request = review_approve(actor=users[username], request=request)
        if step.rejected:
            reviewer, comment = step.rejected
            request = review_reject(actor=users[reviewer], request=request, comment=comment)
        states.append(TransitionRequest.objects.get(pk=request.pk).state)
    return states
