"""A large synthetic catalog, written in bulk for load tests and benchmarks.

This deliberately bypasses the per-row services: creating a million versions through
`version_register` would take hours. Instead rows are generated in Python in batches
and written with COPY on PostgreSQL (executemany on SQLite), with the denormalised
fields the services would maintain (last_version_number, latest_framework,
current_stage, search_text / search_vector) computed the same way. The whole load is
one transaction and writes ONE audit event that summarises it.

Every version starts, as through the services, at stage "none": nothing but the
approvals app changes a stage (DESIGN invariant 2).
"""

import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from audit.services import event_record

from ..audit_actions import Action
from ..choices import CARD_SECTION_NAMES, DataClassification, LineageRelation
from ..models import (
    Metric,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    TeamMembership,
    VersionParent,
)
from ..names import name_key
from ..search import refresh_vectors, search_document
from ..stages import Stage

User = get_user_model()

LOADER_USERNAME = "synth-loader"
USERS_PER_TEAM = 6

TEAM_NAMES = [
    "Payments Risk", "Credit Decisioning", "Marketplace Trust", "Search Relevance",
    "Ads Ranking", "Growth Analytics", "Pricing Science", "Supply Chain Forecasting",
    "Logistics Optimisation", "Customer Support AI", "Speech & Audio", "Computer Vision",
    "Personalisation", "Demand Planning", "Insurance Underwriting", "Health Analytics",
    "Security Analytics", "Content Moderation", "Maps & Places", "Finance Forecasting",
    "HR Analytics", "Energy Trading", "Retail Media", "Developer Productivity",
]  # fmt: skip

# (domain word, phrase used in descriptions)
DOMAINS = [
    ("fraud", "card and account fraud"), ("churn", "subscriber churn"),
    ("credit", "credit default risk"), ("search", "product search"),
    ("ads", "ad click-through"), ("pricing", "dynamic pricing"),
    ("demand", "store-level demand"), ("eta", "delivery arrival times"),
    ("support", "support ticket routing"), ("speech", "call-centre speech"),
    ("ocr", "scanned document text"), ("moderation", "user-generated content"),
    ("recsys", "home feed recommendations"), ("inventory", "warehouse inventory"),
    ("claims", "insurance claims"), ("triage", "patient triage notes"),
    ("intrusion", "network intrusion"), ("sentiment", "review sentiment"),
    ("geocoding", "address geocoding"), ("revenue", "monthly revenue"),
    ("attrition", "employee attrition"), ("load", "electricity load"),
    ("spam", "e-mail spam"), ("translation", "product title translation"),
    ("anomaly", "payment volume anomalies"), ("kyc", "identity verification"),
    ("ltv", "customer lifetime value"), ("returns", "product returns"),
]  # fmt: skip

# (task word, verb phrase, metric family)
TASKS = [
    ("scorer", "scores the risk of", "binary"),
    ("classifier", "classifies", "multiclass"),
    ("detector", "detects", "binary"),
    ("ranker", "ranks results for", "ranking"),
    ("forecaster", "forecasts", "regression"),
    ("encoder", "embeds text about", "ranking"),
    ("predictor", "predicts", "binary"),
    ("recommender", "recommends items for", "ranking"),
    ("estimator", "estimates", "regression"),
    ("tagger", "tags", "multiclass"),
]  # fmt: skip

# (name fragment, framework, description of the algorithm)
ALGORITHMS = [
    ("xgb", "xgboost", "Gradient-boosted trees (XGBoost)"),
    ("lgbm", "lightgbm", "LightGBM"),
    ("logreg", "sklearn", "Regularised logistic regression"),
    ("rf", "sklearn", "Random forest"),
    ("bert", "transformers", "A fine-tuned BERT"),
    ("distilbert", "transformers", "A distilled transformer"),
    ("cnn", "pytorch", "A convolutional network"),
    ("lstm", "pytorch", "A recurrent network"),
    ("twotower", "tensorflow", "A two-tower neural network"),
    ("tft", "pytorch", "A temporal fusion transformer"),
    ("gnn", "pytorch", "A graph neural network"),
    ("flax", "jax", "A JAX/Flax network"),
]  # fmt: skip

LICENSES = ["proprietary"] * 6 + ["Apache-2.0", "Apache-2.0", "MIT", "BSD-3-Clause", "MPL-2.0"]
CLASSIFICATIONS = DataClassification.values
TAG_NAMES = sorted(
    {d for d, _ in DOMAINS}
    | {t for t, _, _ in TASKS}
    | {
        "tabular", "nlp", "vision", "audio", "time-series", "real-time", "batch",
        "edge", "gpu", "pii", "regulated", "experimental", "deprecated", "multilingual",
        "embeddings", "ranking", "forecasting", "graph", "llm", "explainable",
    }
)  # fmt: skip

METRICS = {
    # (name, dataset, start range, step, higher_is_better, decimals)
    "binary": [
        ("auc", "holdout", (0.70, 0.93), 0.004, True, 4),
        ("f1", "holdout", (0.45, 0.80), 0.006, True, 4),
        ("latency_p95_ms", "", (8.0, 120.0), -0.4, False, 1),
    ],
    "multiclass": [
        ("accuracy", "holdout", (0.70, 0.95), 0.004, True, 4),
        ("macro_f1", "holdout", (0.55, 0.90), 0.006, True, 4),
        ("latency_p95_ms", "", (5.0, 90.0), -0.3, False, 1),
    ],
    "ranking": [
        ("ndcg@10", "judged", (0.40, 0.75), 0.004, True, 4),
        ("recall@100", "judged", (0.70, 0.95), 0.003, True, 4),
        ("latency_p95_ms", "", (4.0, 60.0), -0.2, False, 1),
    ],
    "regression": [
        ("mape", "backtest", (0.06, 0.30), -0.002, False, 4),
        ("rmse", "backtest", (10.0, 900.0), -2.0, False, 2),
        ("r2", "backtest", (0.40, 0.90), 0.004, True, 4),
    ],
}

SECTION_TEXT = {
    "model_details": "{algo} model owned by {team}; inputs are {domain} features.",
    "intended_use": "Supports decisions about {domain} in production services.",
    "out_of_scope_use": "Not for decisions about individuals without human review.",
    "training_data": "Trained on {months} months of {domain} records up to {date}.",
    "evaluation_data": "Out-of-time hold-out of {domain} data; per-region slices.",
    "metrics_and_results": "Headline {metric} {value} on the hold-out set.",
    "ethical_considerations": "Reviewed for disparate impact across customer segments.",
    "caveats_and_limitations": "Quality drops on segments with little history.",
    "recommendations": "Retrain monthly and monitor drift weekly.",
}

MODEL_COLUMNS = [
    "id", "name", "team_id", "owner_id", "description", "purpose", "license",
    "data_classification", "evaluation_coverage", "created_by_id", "created_at",
    "updated_at", "last_version_number", "latest_framework", "current_stage", "search_text",
]  # fmt: skip
VERSION_COLUMNS = [
    "id", "model_id", "number", "label", "stage", "framework", "flavor", "artifact",
    "artifact_uri", "artifact_filename", "artifact_sha256", "artifact_size", "run_system",
    "run_id", "run_url", "code_repository", "code_commit", "hyperparameters",
    "release_notes", "created_by_id", "created_at",
]  # fmt: skip
CARD_COLUMNS = ["version_id", *CARD_SECTION_NAMES, "provenance", "updated_by_id", "updated_at"]
METRIC_COLUMNS = ["version_id", "name", "value", "dataset", "higher_is_better"]
MODEL_TAG_COLUMNS = ["registeredmodel_id", "tag_id"]
LINEAGE_COLUMNS = ["child_id", "parent_id", "relation", "child_model_id", "parent_model_id"]
# A third of retrains start from the previous version's weights; one model in ten is
# fine-tuned from another model's version.
LINEAGE_WITHIN_SHARE = 0.3
LINEAGE_ACROSS_SHARE = 0.1
LINEAGE_RELATIONS = [LineageRelation.FINE_TUNED_FROM.value, LineageRelation.DERIVED_FROM.value]


@dataclass
class SynthResult:
    models: int
    versions: int
    cards: int
    metrics: int
    lineage: int
    first_model_id: int | None
    last_model_id: int | None
    seconds: float


# --- Writing rows -----------------------------------------------------------------------
def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def _other_columns(model, columns: Sequence[str]) -> tuple[list[str], tuple]:
    """Every NOT NULL column we do not fill ourselves, with its field's default, so a
    column added to the model later does not break the load."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in columns or f.primary_key or f.null:
            continue
        names.append(f.column)
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return names, tuple(values)


def _write(model, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany elsewhere."""
    table = model._meta.db_table
    extra_columns, extra_values = _other_columns(model, columns)
    if extra_columns:
        columns = [*columns, *extra_columns]
        rows = (row + extra_values for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows],
            )


def _reserve_ids(model, count: int) -> list[int]:
    """Primary keys for rows we insert ourselves, so children can point at them."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
    # SQLite: the writer holds the database lock for the whole transaction.
    start = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    return list(range(start, start + count))


# --- Fixtures the catalog hangs off ------------------------------------------------------
def _loader_user():
    user, _ = User.objects.get_or_create(
        username=LOADER_USERNAME,
        defaults={
            "first_name": "Synthetic",
            "last_name": "Loader",
            "password": make_password(None),
        },
    )
    return user


def _teams_and_owners(team_count: int) -> list[tuple[Team, list[int]]]:
    names = [
        TEAM_NAMES[i % len(TEAM_NAMES)]
        + ("" if i < len(TEAM_NAMES) else f" {i // len(TEAM_NAMES) + 1}")
        for i in range(team_count)
    ]
    result = []
    for name in names:
        slug = slugify(name)
        team = Team.objects.filter(slug=slug).first() or Team.objects.create(
            name=name, slug=slug, description=f"{name} (synthetic)"
        )
        usernames = [f"synth-{slug}-{i}" for i in range(1, USERS_PER_TEAM + 1)]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        unusable = make_password(None)
        User.objects.bulk_create(
            [User(username=u, password=unusable) for u in usernames if u not in existing]
        )
        users = list(User.objects.filter(username__in=usernames).values_list("id", flat=True))
        members = set(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
        TeamMembership.objects.bulk_create(
            [TeamMembership(team=team, user_id=u) for u in users if u not in members]
        )
        result.append((team, users))
    return result


def _tag_ids() -> dict[str, int]:
    Tag.objects.bulk_create([Tag(name=n) for n in TAG_NAMES], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=TAG_NAMES).values_list("name", "id"))


# --- Generating one batch ---------------------------------------------------------------
def _labels(rng: random.Random, count: int) -> list[str]:
    major, minor, patch = rng.choice([(0, 1, 0), (1, 0, 0), (1, 0, 0), (2, 0, 0)])
    labels = []
    for i in range(count):
        if i:
            roll = rng.random()
            if roll < 0.06:
                major, minor, patch = major + 1, 0, 0
            elif roll < 0.35:
                minor, patch = minor + 1, 0
            else:
                patch += 1
        labels.append(f"{major}.{minor}.{patch}")
    return labels


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


class BatchWriter:
    def __init__(self, *, seed: int, versions_per_model: int, loader_id: int, teams, tags):
        self.rng = random.Random(seed)
        self.m = versions_per_model
        self.loader_id = loader_id
        self.teams = teams
        self.tag_ids = tags
        self.now = timezone.now()
        self.counts = {"models": 0, "versions": 0, "cards": 0, "metrics": 0, "lineage": 0}
        # The catalog keeps a JSON copy of the tag names for its facet counts.
        self.tag_list = _has_field(RegisteredModel, "tag_list")
        # Near-duplicate names share a key (registry.names); synthetic names never do.
        self.name_key = _has_field(RegisteredModel, "name_key")

    def write(self, name_numbers: Sequence[int]) -> list[int]:
        rng, m = self.rng, self.m
        model_ids = _reserve_ids(RegisteredModel, len(name_numbers))
        version_ids = _reserve_ids(ModelVersion, len(name_numbers) * m)
        models, model_tags, versions, cards, metrics, lineage = [], [], [], [], [], []
        for i, (model_id, number) in enumerate(zip(model_ids, name_numbers, strict=True)):
            domain, domain_text = rng.choice(DOMAINS)
            task, verb, family = rng.choice(TASKS)
            algo, framework, algo_text = rng.choice(ALGORITHMS)
            team, owners = rng.choice(self.teams)
            name = f"{domain}-{task}-{algo}-{number}"
            tags = sorted({domain, task, *rng.sample(TAG_NAMES, rng.randint(0, 3))})
            description = f"{algo_text} that {verb} {domain_text}, trained by the {team.name} team."
            purpose = f"Used by {team.name} to act on {domain_text} in production decisions."
            created = self.now - timedelta(days=rng.uniform(30, 730))
            card_base = rng.choice([0, 0, 2, 4, 6, 9])  # how complete the first card is
            labels = _labels(rng, m)
            last_framework = "onnx" if m > 1 and rng.random() < 0.1 else framework
            repo = f"https://git.example.com/{slugify(team.name)}/{domain}-{task}"
            starts = [(spec, rng.uniform(*spec[2])) for spec in METRICS[family]]
            when = created
            spacing = (self.now - created) / (m + 1)  # the newest version is in the past
            card_text = ""
            for n in range(1, m + 1):
                vid = version_ids[i * m + n - 1]
                when = when + spacing * rng.uniform(0.5, 1.0)
                fw = last_framework if n == m else framework
                run_id = _hex(rng, 32)
                versions.append(
                    (
                        vid, model_id, n, labels[n - 1], Stage.NONE.value, fw, "",
                        "", f"s3://ml-artifacts/{name}/{labels[n - 1]}/model.bin", "model.bin",
                        "", None, "mlflow", run_id,
                        f"https://mlflow.example.com/#/experiments/{model_id % 500}/runs/{run_id}",
                        repo, _hex(rng, 40),
                        json.dumps({"learning_rate": rng.choice([0.01, 0.03, 0.1]),
                                    "seed": n, "max_depth": rng.choice([4, 6, 8])}),
                        f"Retrained on data up to {when:%Y-%m-%d}.", self.loader_id, when,
                    )
                )  # fmt: skip
                headline = None
                for (mname, dataset, _, step, hib, decimals), start in starts:
                    # Improves quickly at first, then levels off, with noise.
                    value = start + step * 10 * (1 - 0.9**n) * rng.uniform(0.5, 1.5)
                    value = max(value, start * 0.3)
                    if 0 < start < 1:
                        value = min(value, 0.9999)
                    value = round(value, decimals)
                    metrics.append((vid, mname, value, dataset, hib))
                    headline = headline or (mname, value)
                filled = min(9, card_base + (n * 3) // max(m, 1)) if card_base else 0
                sections = _card_sections(
                    filled, algo_text, team.name, domain_text, when, headline, rng
                )
                written = {"status": "edited", "edited_for": n, "edited_by": self.loader_id,
                           "edited_at": when.isoformat()}  # fmt: skip
                provenance = {
                    name: written
                    for name, text in zip(CARD_SECTION_NAMES, sections, strict=True)
                    if text
                }
                cards.append((vid, *sections, json.dumps(provenance), self.loader_id, when))
                if n == m:
                    card_text = "\n".join(sections)
                # Lineage points from a newer version to an older one, or to a version of
                # a model earlier in the batch, so it never forms a cycle.
                if n > 1 and rng.random() < LINEAGE_WITHIN_SHARE:
                    previous = version_ids[i * m + n - 2]
                    lineage.append(
                        (vid, previous, rng.choice(LINEAGE_RELATIONS), model_id, model_id)
                    )
                elif n == 1 and i > 0 and rng.random() < LINEAGE_ACROSS_SHARE:
                    j = rng.randrange(i)
                    parent = version_ids[j * m + rng.randrange(m)]
                    relation = LineageRelation.FINE_TUNED_FROM.value
                    lineage.append((vid, parent, relation, model_id, model_ids[j]))
            doc = search_document(
                SimpleNamespace(
                    name=name,
                    team=team,
                    description=description,
                    purpose=purpose,
                ),
                tags=tags,
                card_text=card_text,
            )
            models.append(
                (
                    model_id, name, team.pk, rng.choice(owners), description, purpose,
                    rng.choice(LICENSES), rng.choice(CLASSIFICATIONS),
                    f"Out-of-time hold-out; slices by region and {domain} segment.",
                    self.loader_id, created, when, m, last_framework if m else "",
                    Stage.NONE.value, doc,
                    *((json.dumps(tags),) if self.tag_list else ()),
                    *((name_key(name),) if self.name_key else ()),
                )
            )  # fmt: skip
            model_tags.extend((model_id, self.tag_ids[t]) for t in tags)

        model_columns = (
            MODEL_COLUMNS
            + (["tag_list"] if self.tag_list else [])
            + (["name_key"] if self.name_key else [])
        )
        _write(RegisteredModel, model_columns, models)
        _write(RegisteredModel.tags.through, MODEL_TAG_COLUMNS, model_tags)
        _write(ModelVersion, VERSION_COLUMNS, versions)
        _write(ModelCard, CARD_COLUMNS, cards)
        _write(Metric, METRIC_COLUMNS, metrics)
        _write(VersionParent, LINEAGE_COLUMNS, lineage)
        refresh_vectors(RegisteredModel.objects.filter(pk__in=model_ids))
        for key, rows in (("models", models), ("versions", versions), ("cards", cards),
                          ("metrics", metrics), ("lineage", lineage)):  # fmt: skip
            self.counts[key] += len(rows)
        return model_ids


def _card_sections(filled, algo, team, domain, when: datetime, headline, rng) -> list[str]:
    values = {
        "algo": algo,
        "team": team,
        "domain": domain,
        "months": rng.choice([6, 12, 18, 24]),
        "date": f"{when:%Y-%m-%d}",
        "metric": headline[0] if headline else "auc",
        "value": headline[1] if headline else "",
    }
    return [
        SECTION_TEXT[name].format(**values) if i < filled else ""
        for i, name in enumerate(CARD_SECTION_NAMES)
    ]


@transaction.atomic
def synth_catalog(
    *,
    models: int,
    versions_per_model: int,
    batch_size: int = 2000,
    seed: int = 1,
    teams: int = 12,
    progress: Callable[[int], None] | None = None,
) -> SynthResult:
    """Add `models` synthetic models with `versions_per_model` versions each.

    Names end in a number above every existing model id, so runs never clash. All of
    it is one transaction with one summarising audit event.
    """
    started = timezone.now()
    loader = _loader_user()
    team_rows = _teams_and_owners(teams)
    tags = _tag_ids()
    writer = BatchWriter(
        seed=seed,
        versions_per_model=versions_per_model,
        loader_id=loader.pk,
        teams=team_rows,
        tags=tags,
    )
    base = (RegisteredModel.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first = last = None
    for offset in range(0, models, batch_size):
        numbers = range(base + offset, base + min(models, offset + batch_size))
        ids = writer.write(numbers)
        first = first if first is not None else ids[0]
        last = ids[-1]
        if progress:
            progress(len(ids))
    counts = writer.counts
    event_record(
        actor=loader,
        action=Action.CATALOG_BULK_LOADED,
        object_type="bulk",
        object_id=f"{first}-{last}" if first else "",
        changes={
            "synthetic_models": counts["models"],
            "synthetic_versions": counts["versions"],
            "synthetic_cards": counts["cards"],
            "synthetic_metrics": counts["metrics"],
            "synthetic_lineage_links": counts["lineage"],
            "first_model_id": first,
            "last_model_id": last,
            "seed": seed,
        },
    )
    seconds = (timezone.now() - started).total_seconds()
    return SynthResult(first_model_id=first, last_model_id=last, seconds=seconds, **counts)


def vacuum_analyze_tables() -> None:
    """After a big load (PostgreSQL): reclaim the row versions left by the search-vector
    UPDATEs, set the visibility map, and refresh the planner's statistics. Inside a
    transaction (where VACUUM cannot run, e.g. in tests) it only analyzes."""
    if connection.vendor != "postgresql":
        return
    tables = [
        m._meta.db_table
        for m in (RegisteredModel, ModelVersion, ModelCard, Metric, Tag, VersionParent)
    ]
    tables.append(RegisteredModel.tags.through._meta.db_table)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'{command} "{table}"')
