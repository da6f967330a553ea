"""MLflow's side of bench/mlflow_side.py: its server in a venv of its own, and its
model-registry tables on PostgreSQL filled with the catalog of Modelgate's bench database.

Nothing of MLflow is installed into Modelgate's environment or committed: the venv
lives outside the repository and is created on first use with the newest MLflow 3.x that
pip can install. The copy is made with COPY streamed from one database to the other, so
a million versions take a minute or two; the source is only read.
"""

import subprocess
import sys
import time
from pathlib import Path

import psycopg

MLFLOW_REQUIREMENT = "mlflow>=3,<4"
# SQLAlchemy 2.x maps postgresql:// to psycopg (3).
DRIVER_REQUIREMENT = "psycopg[binary]"


def ensure_venv(venv: Path) -> str:
    """Create `venv` with MLflow's server if it has none; MLflow's version."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "mlflow").exists():
        print(f"installing MLflow into {venv} ...", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", MLFLOW_REQUIREMENT, DRIVER_REQUIREMENT],
            check=True,
        )
    return subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def create_schema(venv: Path, uri: str, artifacts: Path) -> None:
    """Create the database in `uri` if missing, and let MLflow create and upgrade its
    tables (what its server does on first start)."""
    dbname = uri.rsplit("/", 1)[1]
    with psycopg.connect(uri.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')
            print(f"created database {dbname}")
    script = (
        "import sys\n"
        "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking\n"
        "from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry\n"
        "Tracking(sys.argv[1], sys.argv[2]); Registry(sys.argv[1])\n"
    )
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, uri, str(artifacts)],
        check=True,
        capture_output=True,
    )


# The copy, table by table: (MLflow table, its columns, the SELECT on mg_bench).
def _ms(column: str) -> str:
    return f"(extract(epoch FROM {column}) * 1000)::bigint"


COPIES = [
    (
        "registered_models",
        "name, creation_time, last_updated_time, description",
        f"SELECT name, {_ms('created_at')}, {_ms('updated_at')}, left(description, 5000)"
        " FROM registry_registeredmodel",
    ),
    (
        "model_versions",
        "name, version, creation_time, last_updated_time, description, user_id,"
        " current_stage, source, run_id, status, run_link",
        f"SELECT m.name, v.number, {_ms('v.created_at')}, {_ms('v.created_at')},"
        " left(v.release_notes, 5000), u.username,"
        " CASE v.stage WHEN 'none' THEN 'None' ELSE initcap(v.stage) END,"
        " left(v.artifact_uri, 500), left(v.run_id, 32), 'READY', left(v.run_url, 500)"
        " FROM registry_modelversion v"
        " JOIN registry_registeredmodel m ON m.id = v.model_id"
        " LEFT JOIN auth_user u ON u.id = v.created_by_id",
    ),
    (
        # Modelgate's tags are labels; MLflow's are key/value: the label is the key. The
        # owning team is a tag too, as MLflow users record it.
        "registered_model_tags",
        "key, value, name",
        "SELECT t.name, '', m.name FROM registry_registeredmodel_tags mt"
        " JOIN registry_tag t ON t.id = mt.tag_id"
        " JOIN registry_registeredmodel m ON m.id = mt.registeredmodel_id"
        " UNION ALL SELECT 'team', team.name, m.name FROM registry_registeredmodel m"
        " JOIN registry_team team ON team.id = m.team_id",
    ),
    (
        "model_version_tags",
        "key, value, name, version",
        "SELECT k.key, CASE k.key WHEN 'framework' THEN v.framework ELSE v.label END,"
        " m.name, v.number FROM registry_modelversion v"
        " JOIN registry_registeredmodel m ON m.id = v.model_id"
        " CROSS JOIN (VALUES ('framework'), ('label')) AS k(key)",
    ),
]


def _counts(source: psycopg.Connection, target: psycopg.Connection) -> tuple[tuple, tuple]:
    want = source.execute(
        "SELECT (SELECT count(*) FROM registry_registeredmodel),"
        " (SELECT count(*) FROM registry_modelversion)"
    ).fetchone()
    have = target.execute(
        "SELECT (SELECT count(*) FROM registered_models), (SELECT count(*) FROM model_versions)"
    ).fetchone()
    return want, have


def seed(source_uri: str, target_uri: str, *, reseed: bool = False) -> dict:
    """Copy the catalog of `source_uri` (Modelgate) into MLflow's tables in `target_uri`,
    unless the same numbers of models and versions are already there."""
    notes = {}
    with (
        psycopg.connect(source_uri) as source,
        psycopg.connect(target_uri) as target,
    ):
        source.read_only = True
        want, have = _counts(source, target)
        notes["catalog"] = want
        if have == want and not reseed:
            print(f"MLflow store already holds {have[0]:,} models, {have[1]:,} versions")
            return notes
        started = time.perf_counter()
        # The rows come from tables whose keys already hold MLflow's constraints; skip
        # the per-row foreign-key triggers while loading.
        target.execute("SET session_replication_role = replica")
        names = ", ".join(table for table, _, _ in COPIES)
        target.execute(f"TRUNCATE {names}, registered_model_aliases")
        for table, columns, select in COPIES:
            print(f"copying {table} ...", flush=True)
            with (
                source.cursor().copy(f"COPY ({select}) TO STDOUT") as out,
                target.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as into,
            ):
                for chunk in out:
                    into.write(chunk)
        target.commit()
        target.autocommit = True
        for table, _, _ in COPIES:
            target.execute(f"VACUUM ANALYZE {table}")
        notes["seed_seconds"] = time.perf_counter() - started
        print(f"seeded MLflow's store in {notes['seed_seconds']:.0f} s")
    return notes
