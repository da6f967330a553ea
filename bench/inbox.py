"""Inbox benchmark: 10,000 open requests across 1,000 models and 200 approvers.

    .venv/bin/python bench/inbox.py                  # seed (if needed) and measure
    .venv/bin/python bench/inbox.py --seed-only
    .venv/bin/python bench/inbox.py --measure-only

The database is DATABASE_URL (default postgres://postgres@127.0.0.1/mg_bench_inbox); it is
migrated if needed. Seeding bypasses the services: 1,000 models with 10 versions each
from `manage.py synth`, then by SQL 200 approvers in 20 groups, their django-guardian
grants (each approver on 25 models for staging and production; every tenth also
team-wide on one team; each group on 50 models for production), 10,000 open or blocked
requests (one per version; every version's author is the synthetic loader, so
separation of duties never hides a request) and 3,000 approvals already given.

Measured: the inbox as each of several approvers sees it, server-side: through Django's
test client when the inbox page exists (URL, middleware, view, template, the navigation's
count), otherwise approvals.selectors.inbox + inbox_count (what the page calls); p50 and
p95 over a few hundred requests after a warm-up, and the number of queries. Results go
to bench/results/inbox.md.
"""

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time

import environment  # beside this script

environment.configure("mg_bench_inbox")
ROOT = environment.ROOT

RESULTS = ROOT / "bench" / "results" / "inbox.md"
APPROVERS = 200
GROUPS = 20
TARGET_P95_MS = 30
TARGET_QUERIES = 10


def _seed_sql(ids: dict) -> list[tuple[str, list]]:
    model_ct, team_ct = ids["model_ct"], ids["team_ct"]
    perm = ids["perm"]  # {(stage, "model"|"team"): permission id}
    return [
        (
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'approver' || lpad(n::text, 3, '0'), '', '',
                   'approver' || n || '@example.com', false, true, now()
            FROM generate_series(1, %s) n
            """,
            [APPROVERS],
        ),
        (
            "INSERT INTO auth_group (name) SELECT 'approvers-' || lpad(k::text, 2, '0') "
            "FROM generate_series(1, %s) k",
            [GROUPS],
        ),
        (
            """
            CREATE TEMP TABLE bench_approvers AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM auth_user
            WHERE username LIKE 'approver%%'
            """,
            [],
        ),
        (
            """
            CREATE TEMP TABLE bench_groups AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM auth_group
            WHERE name LIKE 'approvers-%%'
            """,
            [],
        ),
        (
            """
            CREATE TEMP TABLE bench_models AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS m, id, team_id
            FROM registry_registeredmodel
            """,
            [],
        ),
        (  # each approver in one group, every fourth in a second one
            """
            INSERT INTO auth_user_groups (user_id, group_id)
            SELECT a.id, g.id FROM bench_approvers a JOIN bench_groups g
              ON g.k = a.n %% %s OR (a.n %% 4 = 0 AND g.k = (a.n / 4) %% %s)
            ON CONFLICT DO NOTHING
            """,
            [GROUPS, GROUPS],
        ),
        (  # model grants: approver n on the 25 models m with m %% 40 = n %% 40
            """
            INSERT INTO guardian_userobjectpermission (object_pk, content_type_id,
                                                       permission_id, user_id)
            SELECT m.id::text, %s, p.id, a.id
            FROM bench_approvers a JOIN bench_models m ON m.m %% 40 = a.n %% 40
            CROSS JOIN (VALUES (%s), (%s)) p(id)
            """,
            [model_ct, perm["staging", "model"], perm["production", "model"]],
        ),
        (  # team-wide: every tenth approver on one team
            """
            INSERT INTO guardian_userobjectpermission (object_pk, content_type_id,
                                                       permission_id, user_id)
            SELECT t.id::text, %s, %s, a.id
            FROM bench_approvers a
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS r, id FROM registry_team) t
              ON t.r = a.n %% (SELECT count(*) FROM registry_team)
            WHERE a.n %% 10 = 0
            """,
            [team_ct, perm["production", "team"]],
        ),
        (  # group grants: group k on the 50 models m with m %% 20 = k, for production
            """
            INSERT INTO guardian_groupobjectpermission (object_pk, content_type_id,
                                                        permission_id, group_id)
            SELECT m.id::text, %s, %s, g.id
            FROM bench_groups g JOIN bench_models m ON m.m %% %s = g.k
            """,
            [model_ct, perm["production", "model"], GROUPS],
        ),
        (  # one open (10%% blocked) request per version, half to staging, half to production
            """
            INSERT INTO approvals_transitionrequest (
                model_id, version_id, kind, from_stage, to_stage, reason, requester_id, state,
                policy_id, baseline_id, gate_results, gates_passed, gates_checked_at,
                blocked_reason, created_at, closed_at, closed_by_id, close_comment,
                event_hash, rollback_event_hash)
            SELECT v.model_id, v.id, 'promotion',
                   CASE WHEN v.id %% 2 = 0 THEN 'none' ELSE 'staging' END,
                   CASE WHEN v.id %% 2 = 0 THEN 'staging' ELSE 'production' END,
                   'Beats the current version on the hold-out set; ops signed off.',
                   %s,
                   CASE WHEN v.id %% 10 = 0 THEN 'blocked' ELSE 'open' END,
                   p.id, NULL, '[]'::jsonb, true, now(), '',
                   timestamptz '2026-01-01 00:00+00' + v.id * interval '10 minutes',
                   NULL, NULL, '', '', ''
            FROM registry_modelversion v
            JOIN approvals_policy p ON p.scope = 'org' AND p.risk_tier = 'medium'
             AND p.superseded_at IS NULL
             AND p.stage = CASE WHEN v.id %% 2 = 0 THEN 'staging' ELSE 'production' END
            """,
            [ids["requester"]],
        ),
        (  # 3,000 approvals already given, by approvers who hold a grant on the model
            """
            INSERT INTO approvals_review (request_id, reviewer_id, decision, comment, digests,
                                          created_at)
            SELECT tr.id, a.id, 'approve', '', '{}'::jsonb, tr.created_at + interval '1 hour'
            FROM approvals_transitionrequest tr
            JOIN bench_models m ON m.id = tr.model_id
            JOIN bench_approvers a ON a.n = (m.m %% 40) + 40 * (tr.id %% 5)
            WHERE tr.id %% 10 < 3
            """,
            [],
        ),
    ]


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction

    from approvals.models import TransitionRequest
    from registry.models import ModelVersion, RegisteredModel, Team

    call_command("migrate", verbosity=0)
    if TransitionRequest.objects.exists():
        print(f"{TransitionRequest.objects.count():,} requests already seeded")
        return {}
    began = time.perf_counter()
    if not ModelVersion.objects.exists():
        call_command(
            "synth", "--models", "1000", "--versions-per-model", "10", "--teams", "24", verbosity=0
        )
    ids = {
        "model_ct": ContentType.objects.get_for_model(RegisteredModel).pk,
        "team_ct": ContentType.objects.get_for_model(Team).pk,
        "perm": {
            (stage, on): Permission.objects.get(
                codename=f"approve_{stage}_{'registeredmodel' if on == 'model' else 'team'}"
            ).pk
            for stage in ("staging", "production")
            for on in ("model", "team")
        },
        "requester": get_user_model().objects.get(username="synth-loader").pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        for sql, params in _seed_sql(ids):
            cursor.execute(sql, params)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - began
    print(f"seeded in {seconds:.1f} s")
    return {"seconds": seconds}


def _grants_of_user(user) -> dict[str, tuple[set[int], set[int]]]:
    """{stage: (model ids, team ids)} the user may approve: the grants query the inbox
    ran at d2b1874 (approvals.approvers.grants_of_user then), part of `_before`."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from approvals.approvers import STAGES, codename
    from registry.models import RegisteredModel, Team

    model_ct = ContentType.objects.get_for_model(RegisteredModel)
    team_ct = ContentType.objects.get_for_model(Team)
    codenames = [codename(s, RegisteredModel) for s in STAGES] + [codename(s, Team) for s in STAGES]
    base = Q(permission__codename__in=codenames, content_type__in=[model_ct, team_ct])
    rows = (
        UserObjectPermission.objects.filter(base, user=user)
        .values_list("permission__codename", "content_type_id", "object_pk")
        .union(
            GroupObjectPermission.objects.filter(base, group__user=user).values_list(
                "permission__codename", "content_type_id", "object_pk"
            )
        )
    )
    out: dict[str, tuple[set[int], set[int]]] = {s: (set(), set()) for s in STAGES}
    for code, ct_id, pk in rows:
        stage = code.split("_")[1]
        out[stage][0 if ct_id == model_ct.pk else 1].add(int(pk))
    return out


def _before(user):
    """The inbox query as it was on main at d2b1874, timed beside the current one in the
    same run: the team grant as a join to every model, 100 rows in creation order, the
    count a second pass over the same filter."""
    from django.db.models import Exists, OuterRef, Q

    from approvals.models import PENDING_STATES, Policy, Review, TransitionRequest
    from registry.models import ModelVersion

    scope, any_grant = Q(), False
    for stage, (model_ids, team_ids) in _grants_of_user(user).items():
        if model_ids or team_ids:
            any_grant = True
            scope |= Q(to_stage=stage) & (
                Q(model_id__in=model_ids) | Q(model__team_id__in=team_ids)
            )
    if not any_grant:
        return None
    authored = ModelVersion.objects.filter(created_by=user).values("pk")
    enforcing = Policy.objects.filter(separation_of_duties=True).values("pk")
    where = scope & ~Q(requester=user) & ~Q(policy_id__in=enforcing, version_id__in=authored)
    reviewed = Review.objects.filter(request=OuterRef("pk"), reviewer=user)
    return (
        TransitionRequest.objects.filter(state__in=PENDING_STATES)
        .filter(where)
        .filter(~Exists(reviewed))
    )


BEFORE_FIELDS = (
    "state", "kind", "from_stage", "to_stage", "created_at", "gates_passed", "model__name",
    "model__team_id", "version__number", "version__label", "version__created_by_id",
    "requester__username", "policy__required_approvals", "policy__separation_of_duties",
)  # fmt: skip


def _before_inbox_and_count(user):
    waiting = _before(user)
    if waiting is None:
        return [], 0
    rows = list(
        waiting.select_related("model", "version", "requester", "policy")
        .only(*BEFORE_FIELDS)
        .order_by("created_at", "id")[:100]
    )
    return rows, _before(user).order_by().values("pk")[:101].count()


def _all_waiting_ids(user) -> tuple[set[int], set[int]]:
    """Every request waiting for `user`, by the old and the new filter, unlimited: the
    bench checks that both select the same requests."""
    from approvals.selectors import _waiting

    old = _before(user)
    return (
        set() if old is None else set(old.values_list("pk", flat=True)),
        set(_waiting(user).values_list("pk", flat=True)),
    )


def _inbox_url() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("approvals:inbox")
    except NoReverseMatch:
        return None


def _subjects() -> list[tuple[str, object]]:
    """Approvers of each kind: model grants only, plus team-wide, plus two groups."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return [
        ("model grants + 1 group", users.get(username="approver002")),
        ("model grants + 2 groups", users.get(username="approver005")),
        ("model + team-wide grants", users.get(username="approver011")),
        ("model + team-wide + 2 groups", users.get(username="approver041")),
        ("no grants", users.get(username="synth-loader")),
    ]


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of process `pid` (the PostgreSQL
    backend serving this connection: same host)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(fn, repeat: int) -> tuple[list[float], float]:
    """Wall-clock milliseconds of each call, and the mean CPU milliseconds a call took in
    this process and its database backend together (what a machine with a free core
    would take, whatever the load)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    timings = []
    cpu_before = _cpu_seconds() + _cpu_seconds(backend)
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - began) * 1000)
    cpu = _cpu_seconds() + _cpu_seconds(backend) - cpu_before
    return timings, cpu * 1000 / repeat


def measure(repeat: int) -> dict:
    from django.db import connection
    from django.test import Client

    from approvals.selectors import inbox, inbox_count

    url = _inbox_url()
    rows = []
    for label, user in _subjects():
        client = Client()
        client.force_login(user)

        def selectors(user=user):
            return inbox(user), inbox_count(user)  # the page's list, another page's count

        def page(client=client):
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        (first, count), _ = selectors()
        items = first.rows
        old_ids, new_ids = _all_waiting_ids(user)
        assert old_ids == new_ids, (len(old_ids), len(new_ids))
        assert count == min(len(new_ids), 101)
        assert [r.pk for r in items] == sorted(new_ids)[:25]
        cases = [
            ("page", page),
            ("selectors", selectors),
            ("selectors before", lambda user=user: _before_inbox_and_count(user)),
        ]
        for what, fn in cases:
            if what == "page" and not url:
                continue
            for _ in range(5):  # warm-up
                fn()
            queries = []

            def counted(run, *args, queries=queries):
                queries.append(args[0])
                return run(*args)

            # Counted by a wrapper: the test client's request closes the connection at its
            # end, which a CaptureQueriesContext would not survive.
            with connection.execute_wrapper(counted):
                fn()
            timings, cpu_ms = _time(fn, repeat)
            rows.append(
                {
                    "what": what,
                    "label": label,
                    "user": user.get_username(),
                    "shown": len(items),
                    "count": count,
                    "queries": len(queries),
                    "p50": environment.percentile(timings, 50),
                    "p95": environment.percentile(timings, 95),
                    "cpu_ms": cpu_ms,
                    "load": os.getloadavg()[0],
                }
            )
            print(rows[-1])
    return {"rows": rows, "through": "page" if url else "selectors"}


def write_results(data: dict, repeat: int, seeded: dict, notes: str) -> None:
    from django.db import connection

    from approvals.models import TransitionRequest

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    open_requests = TransitionRequest.objects.filter(state__in=["open", "blocked"]).count()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    through = (
        "`page`: a GET of the inbox page (`approvals:inbox`) through Django's test client,"
        " signed in (URL, middleware, session, view, template, the navigation's count);"
        " `selectors`: approvals.selectors.inbox(user) + inbox_count(user) alone"
        if data["through"] == "page"
        else "approvals.selectors.inbox(user) + inbox_count(user), what the inbox page and"
        " the navigation call (the page was not on main when this ran)"
    )
    lines = [
        "# Inbox benchmark",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `bench/inbox.py` on"
        f" {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" PostgreSQL {pg_version} (same host). Load average at the end: {load} (above the CPU"
        " count means other work competed for the machine; `load` is the 1-minute load"
        " average after each row).",
        "",
        f"{open_requests:,} open requests across 1,000 models (24 teams), {APPROVERS} approvers"
        f" in {GROUPS} groups, grants on models, teams and groups, 3,000 approvals given;"
        " seeded by SQL" + (f" in {seeded['seconds']:.0f} s." if seeded else " (earlier run)."),
        "",
        f"Timed: {through}. {repeat} requests per approver after 5 warm-ups.",
        "",
        f"Targets: p95 <= {TARGET_P95_MS} ms server-side, <= {TARGET_QUERIES} queries.",
        "",
        "`CPU ms` is the mean CPU time one request took in the Django process and its"
        " PostgreSQL backend together: the time it would take with a core to itself, which"
        " the wall clock on a shared, loaded machine hides (p50/p95 include waiting for a"
        " core).",
        "",
        "| timed | approver | grants | listed | waiting | queries | p50 ms | p95 ms | CPU ms "
        "| load | meets (wall) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in data["rows"]:
        ok = r["p95"] <= TARGET_P95_MS and r["queries"] <= TARGET_QUERIES
        lines.append(
            f"| {r['what']} | {r['user']} | {r['label']} | {r['shown']} | {r['count']} |"
            f" {r['queries']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['cpu_ms']:.1f} |"
            f" {r['load']:.1f} | {'yes' if ok else 'NO'} |"
        )
    if notes:
        lines += ["", notes]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=100, help="requests per approver")
    parser.add_argument("--notes", default="", help="a paragraph added to the results")
    args = parser.parse_args()
    environment.setup_django()
    seeded = {} if args.measure_only else seed()
    if args.seed_only:
        return
    write_results(measure(args.repeat), args.repeat, seeded, args.notes)


if __name__ == "__main__":
    sys.exit(main())
