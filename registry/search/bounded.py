"""PostgreSQL: one catalog page whose work does not grow with the number of matches.

Three statements, whatever the query:

1. **Pilot.** For each count the page needs (the matches; for each selected scalar
   facet, the matches under every other filter, whose values the facet lists), count
   the rows in a small fixed sample (1/64 of the keys, fewer past ~100,000 models) and,
   when that leaves it unclear, the first SEARCH_EXACT_LIMIT + 1 rows.
2. **Counts and page.** A count set with at most SEARCH_EXACT_LIMIT rows is counted
   exactly. A larger one is counted on a uniform random sample of its rows (as
   precise as SEARCH_SAMPLE_SIZE rows of very many: `sample_share`), scaled up, and
   marked as an estimate. The same statement picks the page's ids (see `_page_sql`
   for the relevance order).
3. **The rest**, only when a page reaches past the ranked rows.

The sample: every model has a fixed pseudo-random key, `sample_key` (`hashint8(id) &
65535`, a generated column with an index, migration 0014). The rows whose key falls in
a window of K of the 65,536 values are a uniform random sample of the matches with
fraction K / 65,536, and PostgreSQL reads only them (a bitmap AND of the text index and
the key index). A query's window starts at a position derived from the query, so the
same search gives the same figures.
"""

import json
import math
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import OperationalError

from .documents import SEARCH_CONFIG
from .facets import SCALAR_FACETS, grouping_sets, read_grouping_sets, tag_limit
from .query import MAX_RESULTS, SORT_COLUMNS, CatalogQuery

TABLE = "registry_registeredmodel"
KEYS = 65536
SAMPLE_KEY = "sample_key"  # hashint8(id) & 65535, a generated column (migration 0014)
# The pilot reads the rows in a window of KEYS // 64 keys, or fewer on a catalog of
# over ~100,000 models, so that it reads at most PILOT_ROWS rows whatever the query.
PILOT_KEYS = KEYS // 64
PILOT_ROWS = 1600
# The catalog's size as the last search in this process saw it (the planner's row
# count, which the pilot reads): sizes the next pilot's window.
_catalog_size_seen = 0


def _pilot_keys() -> int:
    if not _catalog_size_seen:
        return PILOT_KEYS
    return max(16, min(PILOT_KEYS, KEYS * PILOT_ROWS // _catalog_size_seen))


# Name matches ranked first: at most NAME_HITS of the first NAME_SCAN names that start
# with the query's words, in name order.
NAME_HITS = 50
NAME_SCAN = 100


class ExactCountTimeout(Exception):
    """Counting exactly took longer than SEARCH_EXACT_TIMEOUT_SECONDS."""


@dataclass
class Condition:
    sql: str = "TRUE"
    params: list = field(default_factory=list)

    def and_(self, sql: str, params: list | None = None) -> "Condition":
        if self.sql == "TRUE":
            return Condition(sql, list(params or []))
        return Condition(f"{self.sql} AND {sql}", [*self.params, *(params or [])])


@dataclass
class CountSet:
    """One set of rows to count: the matches, or a selected facet's own matches."""

    facet: str | None  # None: the matches themselves
    where: Condition
    head: int = 0  # rows counted up to the exact limit + 1
    pilot: int = 0  # rows in the pilot sample
    pilot_keys: int = PILOT_KEYS  # its window's width
    head_counted: bool = False  # whether `head` was counted (else inferred from the pilot)
    keys: int = KEYS  # sample window width; KEYS: counted exactly

    @property
    def exact(self) -> bool:
        return self.keys >= KEYS

    @property
    def scale(self) -> float:
        return KEYS / self.keys

    def within_limit(self) -> bool:
        return self.head <= settings.SEARCH_EXACT_LIMIT

    def estimate(self) -> int:
        """The pilot's estimate of the number of rows."""
        return max(round(self.pilot * KEYS / self.pilot_keys), self.head, 1)

    def low_estimate(self) -> int:
        """The pilot's estimate less one standard error (a binomial count's is about its
        square root): a sample sized for fewer rows than there are is larger than it
        needs to be, not smaller."""
        low = (self.pilot - math.sqrt(self.pilot)) * KEYS / self.pilot_keys
        return max(round(low), self.head, 1)


@dataclass
class BoundedResult:
    counts: dict[str, dict]
    total: int
    total_is_exact: bool
    # Per facet: whether its counts are exact.
    facet_exact: dict[str, bool]
    # The counted teams: {id: (slug, name)}.
    teams: dict[int, tuple[str, str]]
    ids: list[int]
    has_next: bool
    tag_total: int


def _facet_condition(facet: str, values: list[str]) -> tuple[str, list]:
    if facet == "team":
        return "team_id IN (SELECT id FROM registry_team WHERE slug = ANY(%s))", [values]
    if facet == "tag":
        return "tag_list @> %s::jsonb", [json.dumps(sorted(set(values)))]
    return f"{SCALAR_FACETS[facet][0]} = ANY(%s)", [values]


def _tsquery() -> str:
    return f"websearch_to_tsquery('{SEARCH_CONFIG}', %s)"


def conditions(query: CatalogQuery, *, skip: str | None = None) -> Condition:
    """The rows matching the query's words and every filter but `skip`'s."""
    where = Condition()
    if query.q:
        where = where.and_(f"search_vector @@ {_tsquery()}", [query.q])
    for facet, values in query.filters.items():
        if facet != skip:
            where = where.and_(*_facet_condition(facet, values))
    return where


def sample_start(query: CatalogQuery) -> int:
    """Where the query's sample window starts: fixed per query, spread over the keys."""
    if query.sample_start is not None:
        return query.sample_start % KEYS
    text = repr((query.q.lower(), sorted((k, sorted(v)) for k, v in query.filters.items())))
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % KEYS


def _by_index(width: int, rows: int, catalog: int) -> bool:
    """Whether a sample window should be read as a range of the key index (ANDed with
    the set's own index) rather than as a filter on all of the set's rows: a key index
    entry costs about 1/15 of a row read (measured: 0.12 against 2 µs on a loaded
    2-core machine), and the range holds `catalog * width / KEYS` entries."""
    share = width / KEYS
    return not rows or catalog * share < 15 * rows * (1 - share)


def _window(start: int, width: int, *, by_index: bool = True) -> tuple[str, list]:
    """SQL keeping the rows whose sample key is in a window of `width` keys; the window
    starts at `start`, moved back so that it does not wrap past the last key."""
    start = min(start, KEYS - width)
    key = SAMPLE_KEY if by_index else f"({SAMPLE_KEY} + 0)"
    return f"{key} >= %s AND {key} < %s", [start, start + width]


def _count_sets(query: CatalogQuery) -> list[CountSet]:
    sets = [CountSet(None, conditions(query))]
    for facet in SCALAR_FACETS:
        if facet in query.filters:
            sets.append(CountSet(facet, conditions(query, skip=facet)))
    return sets


def _pilot(cursor, sets: list[CountSet], start: int, *, ranked: bool) -> tuple[int, int | None]:
    """Fill each set's pilot count (its rows in a 1/64 sample) and, when that leaves it
    unclear whether the set is within the exact limit, its head count (its first
    SEARCH_EXACT_LIMIT + 1 rows).

    Returns the catalog's size (the planner's estimate) and, for a ranked search that
    may be over the limit, the static-order threshold above which about
    SEARCH_RANK_CANDIDATES matches lie (see `_page_sql`): computed here, so that the
    page's statement gets it as a value the planner can plan with."""
    limit = settings.SEARCH_EXACT_LIMIT
    low, high = _unclear_band(_pilot_keys())
    size = f"(SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = '{TABLE}'::regclass)"
    parts, params = [], []
    global _catalog_size_seen
    width = _pilot_keys()
    window, window_params = _window(start, width)
    for i, s in enumerate(sets):
        pilot = f"(SELECT count(*) FROM {TABLE} WHERE {s.where.sql} AND {window})"
        pilot_params = [*s.where.params, *window_params]
        head = f"(SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE {s.where.sql} LIMIT %s) AS h)"
        threshold = "NULL"
        if i == 0 and ranked:
            reach = f"ceil(%s * {size} * {width} / (greatest(c, 1) * {KEYS}.0))::bigint"
            threshold = (
                f"CASE WHEN c >= %s THEN (SELECT search_key FROM {TABLE}"
                f" ORDER BY search_key DESC OFFSET {reach} LIMIT 1) END"
            )
        parts.append(
            f"(SELECT ARRAY[c, CASE WHEN c >= %s AND c < %s THEN {head} END, {threshold}]"
            f" FROM {pilot} AS p(c))"
        )
        params += [low, high, *s.where.params, limit + 1]
        if threshold != "NULL":  # wanted when the matches may be more than the limit
            params += [math.floor(limit * width / KEYS), settings.SEARCH_RANK_CANDIDATES]
        params += pilot_params
    parts.append(size + "::bigint")
    cursor.execute("SELECT " + ", ".join(parts), params)
    row = cursor.fetchone()
    for s, (pilot, head, _) in zip(sets, row[:-1], strict=True):
        s.pilot, s.pilot_keys, s.head_counted = pilot, width, head is not None
        s.head = head if head is not None else (0 if pilot < low else limit + 1)
        if head is None and pilot < low:
            s.head = min(limit, round(pilot * KEYS / width))  # counted exactly anyway
    _catalog_size_seen = row[-1]
    return row[-1], row[0][2]


def _unclear_band(width: int) -> tuple[int, int]:
    """(low, high): a set whose pilot count is below `low` is counted exactly (it holds
    at most SEARCH_EXACT_LIMIT rows, or a few times that when unlucky: counting those
    exactly costs no more than a sample would); from `high` on it is over the limit.
    Between them, its first SEARCH_EXACT_LIMIT + 1 rows are counted to decide.

    A pilot count is a binomial draw with mean rows * width / KEYS. On catalogs of up
    to ~100,000 models the mean for SEARCH_EXACT_LIMIT rows is about 16, and a set of
    at most that many reaches 2.5 times it with a probability under 10^-6: no band.
    With a smaller mean (a larger catalog, a smaller window) the head decides up to six
    times it."""
    expected = settings.SEARCH_EXACT_LIMIT * width / KEYS
    if expected >= 10:
        low = math.ceil(2.5 * expected)
        return low, low
    return 0, max(1, math.ceil(6 * expected))


def sample_share(rows: int, size: int) -> float:
    """The share f of a set's `rows` to sample for the precision `size` sampled rows
    would give if they were a negligible share of the set.

    Each row is in the sample with probability f, so the sampled count is binomial and
    the estimate (count / f) has a relative standard error of sqrt((1 - f) / (f rows)).
    With f small that is 1 / sqrt(size) when f rows = size; keeping (1 - f) / (f rows)
    at 1 / size for any f (the finite-population correction) gives
    f = size / (rows + size): a set of 3,000 rows needs 1,200 of them sampled, not
    2,000, for the same ±5 % at 95 % confidence."""
    return size / (rows + size)


def _choose_windows(sets: list[CountSet], exact: bool, catalog: int) -> None:
    """Exact counting for sets within the limit; a sample window for the others, sized
    (sample_share) for the precision of SEARCH_SAMPLE_SIZE rows for the matches (whose
    total must be within ±5 %) and of half that for a selected facet's own counts (which
    only order its values), for the pilot's low estimate of the set's rows. A window
    that could only be read by visiting all of the set's rows is no saving: such a set
    is counted exactly."""
    for i, s in enumerate(sets):
        if exact or s.within_limit():
            s.keys = KEYS
            continue
        target = settings.SEARCH_SAMPLE_SIZE if i == 0 else settings.SEARCH_SAMPLE_SIZE // 2
        s.keys = min(KEYS, math.ceil(KEYS * sample_share(s.low_estimate(), target)))
        if not _by_index(s.keys, s.estimate(), catalog):
            s.keys = KEYS


def _sampled(s: CountSet, start: int, columns: list[str], catalog: int) -> tuple[str, list]:
    select = ", ".join(columns)
    if s.exact:
        return f"SELECT {select} FROM {TABLE} WHERE {s.where.sql}", list(s.where.params)
    window, params = _window(start, s.keys)
    return (
        f"SELECT {select} FROM {TABLE} WHERE {s.where.sql} AND {window}",
        [*s.where.params, *params],
    )


def _page_sql(
    query: CatalogQuery,
    main: CountSet,
    threshold: int | None,
    *,
    rank_in_m: bool = False,
    top_of_m: bool = False,
    order_in_m: bool = False,
) -> tuple[str, list]:
    """SQL for the page's ids (one more than a page, to know whether another follows).

    Relevance, without touching every match:
      1. names: models whose lower-case name starts with the query's words joined by
         "-" (the exact name first), from the name index: at most NAME_HITS of the
         first NAME_SCAN such names;
      2. candidates: within the exact limit, every match; beyond it, the matches at
         the top of the static order (stage, last update, versions: `search_key`) down
         to `threshold`, chosen so that about SEARCH_RANK_CANDIDATES lie above it;
         ranked by text relevance (ts_rank: name words weigh more than description
         words), then the static order. When CTE m holds every match (counted
         exactly past the limit: `top_of_m`), its top SEARCH_RANK_CANDIDATES in the
         static order are the candidates, read from it instead of walking the static
         order's index down to the threshold (a quarter of that index for ~1,300
         matches);
      3. the rest of the matches, in the static order (`_rest_ids`).
    Other sorts read the matches in their index's order, or, when CTE m holds every
    match with the sort's column (`order_in_m`), take the page from it: the matches
    were read once already, and walking an index in the sort's order past the rows that
    do not match, or reading every match again to sort it, costs more.
    Returns the SQL of the CTEs `p` (the page's ids) and `ranked`, with its params.
    """
    offset = (query.page - 1) * query.per_page
    where = main.where
    if not (query.sort == "relevance" and query.q):
        column = SORT_COLUMNS.get(query.sort, "name")
        order = f"{column.lstrip('-')}{' DESC' if column.startswith('-') else ''}, id"
        source, params = ("m", []) if order_in_m else (f"{TABLE} WHERE {where.sql}", where.params)
        sql = (
            f"p AS (SELECT id FROM {source} ORDER BY {order} LIMIT %s OFFSET %s),"
            " ranked AS (SELECT NULL::bigint AS id WHERE FALSE)"
        )
        return sql, [*params, query.per_page + 1, offset]
    words = "-".join("".join(c for c in w if c.isalnum()) for w in query.q.lower().split())
    words = "-".join(w for w in words.split("-") if w)
    # Names starting with `words`: between it and it with its last character's successor
    # (byte order, as the pattern index on lower(name) sorts); nothing when it is empty.
    upper = words[:-1] + chr(ord(words[-1]) + 1) if words else ""
    if rank_in_m:  # every match, ranked as it was read (CTE m)
        candidates, candidate_params = "SELECT id, search_key, rank FROM m", []
    elif top_of_m:
        candidates = (
            f"SELECT t.id, s.search_key, ts_rank(t.search_vector, {_tsquery()}) AS rank"
            " FROM (SELECT id, search_key FROM m ORDER BY search_key DESC LIMIT %s) AS s"
            f" JOIN {TABLE} AS t ON t.id = s.id"
        )
        candidate_params = [query.q, settings.SEARCH_RANK_CANDIDATES]
    else:
        candidates = (
            f"SELECT id, search_key, ts_rank(search_vector, {_tsquery()}) AS rank FROM {TABLE}"
            f" WHERE {where.sql} AND search_key >= %s"
        )
        threshold_value = -1 if threshold is None else threshold
        candidate_params = [query.q, *where.params, threshold_value]
    sql = f"""
        n AS (SELECT r.id, r.search_key, lower(r.name) = %s AS exact
              FROM (SELECT id FROM {TABLE} WHERE lower(name) ~>=~ %s AND lower(name) ~<~ %s
                    ORDER BY lower(name) USING ~<~ LIMIT {NAME_SCAN}) AS named
              JOIN {TABLE} AS r ON r.id = named.id
              WHERE {where.sql}
              ORDER BY lower(r.name) LIMIT {NAME_HITS}),
        c AS ({candidates}),
        ranked AS (
            SELECT id, 0 AS part,
                   ROW_NUMBER() OVER (ORDER BY exact DESC, search_key DESC) AS k FROM n
            UNION ALL
            SELECT id, 1, ROW_NUMBER() OVER (ORDER BY rank DESC, search_key DESC) FROM c
            WHERE id NOT IN (SELECT id FROM n)),
        p AS (SELECT id FROM ranked ORDER BY part, k LIMIT %s OFFSET %s)
    """
    params = [
        words,
        words,
        upper,
        *where.params,
        *candidate_params,
        query.per_page + 1,
        offset,
    ]
    return sql, params


def _rest_ids(cursor, main, threshold: int, ranked_ids, skip: int, limit: int) -> list[int]:
    """Matches below the ranked ones, in the static order."""
    sql = (
        f"SELECT id FROM {TABLE} WHERE {main.where.sql}"
        " AND search_key < %s AND NOT (id = ANY(%s))"
        " ORDER BY search_key DESC LIMIT %s OFFSET %s"
    )
    cursor.execute(sql, [*main.where.params, threshold, ranked_ids, limit, skip])
    return [r[0] for r in cursor.fetchall()]


def search_bounded(query: CatalogQuery) -> BoundedResult:
    """Counts, facet counts and one page of ids for a query, in bounded work.

    With `query.exact`, every count is exact, under SEARCH_EXACT_TIMEOUT_SECONDS
    (ExactCountTimeout past it)."""
    if query.exact:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                timeout = settings.SEARCH_EXACT_TIMEOUT_SECONDS * 1000
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout)}")
                return _search(cursor, query)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
                raise ExactCountTimeout from error
            raise
    with connection.cursor() as cursor:
        return _search(cursor, query)


def _search(cursor, query: CatalogQuery) -> BoundedResult:
    start = sample_start(query)
    sets = _count_sets(query)
    ranked = query.sort == "relevance" and bool(query.q)
    catalog_size, threshold = _pilot(cursor, sets, start, ranked=ranked)
    _choose_windows(sets, query.exact, catalog_size)
    main = sets[0]
    # Every match is a candidate when they are at most SEARCH_EXACT_LIMIT (as counted,
    # or as the pilot estimates); their rank is then read with them, in one pass.
    rank_all = main.within_limit() and (
        main.head_counted or main.estimate() <= settings.SEARCH_EXACT_LIMIT
    )
    if rank_all:
        threshold = None
    rank_in_m = ranked and threshold is None and main.exact
    top_of_m = ranked and threshold is not None and main.exact
    order_in_m = not ranked and main.exact
    shared = [f for f in SCALAR_FACETS if f not in query.filters]
    columns = [SCALAR_FACETS[f][0] for f in shared]

    ctes, params = [], []
    extra = ["search_key", f"ts_rank(search_vector, {_tsquery()}) AS rank"] if rank_in_m else []
    if top_of_m:
        extra = ["search_key"]
    if order_in_m:
        extra = [SORT_COLUMNS.get(query.sort, "name").lstrip("-")]
    sql, p = _sampled(
        main, start, ["id", "tag_list", f"{SAMPLE_KEY} AS k", *columns, *extra], catalog_size
    )
    if rank_in_m:  # the rank's parameter comes first: it is in the select list
        p = [query.q, *p]
    ctes.append(f"m AS MATERIALIZED ({sql})")
    params += p
    select, grouping = grouping_sets(columns)
    ctes.append(f"f AS (SELECT {select} FROM m GROUP BY GROUPING SETS ({grouping}))")
    # Tags cost most per row (each row's list is expanded): past the exact limit their
    # counts (estimates that only order the tags) come from the first quarter of the
    # sample's window, or of the keys when every match was read (more than the limit
    # may be: the pilot only says how many there are likely to be).
    tag_keys = max(1, main.keys // 4)
    tag_end = min(start, KEYS - main.keys) + tag_keys
    if query.exact:
        tags_below = "%s"
        params.append(KEYS + 1)
    elif main.exact:
        tags_below = "CASE WHEN (SELECT COUNT(*) FROM m) > %s THEN %s ELSE %s END"
        params += [settings.SEARCH_EXACT_LIMIT, tag_end, KEYS + 1]
    else:
        tags_below = "%s"
        params.append(tag_end)
    ctes.append(
        "tg AS (SELECT tag, COUNT(*) AS n FROM m, jsonb_array_elements_text(m.tag_list) AS tag"
        f" WHERE m.k < {tags_below} GROUP BY tag)"
    )
    ctes.append("t AS (SELECT * FROM tg ORDER BY n DESC, tag LIMIT %s)")
    params.append(tag_limit(query))
    own = []
    for i, s in enumerate(sets[1:], start=1):
        column = SCALAR_FACETS[s.facet][0]
        sql, p = _sampled(s, start, [column], catalog_size)
        ctes.append(f"o{i} AS (SELECT %s AS facet, {column}::text AS value, COUNT(*) AS n"
                    f" FROM ({sql}) AS x GROUP BY {column})")  # fmt: skip
        params += [s.facet, *p]
        own.append(f"SELECT * FROM o{i}")
    page_sql, page_params = _page_sql(
        query, main, threshold, rank_in_m=rank_in_m, top_of_m=top_of_m, order_in_m=order_in_m
    )
    ctes.append(page_sql.strip().rstrip(","))
    params += page_params
    own_sql = " UNION ALL ".join(own) or "SELECT NULL AS facet, NULL AS value, 0 AS n WHERE FALSE"
    floor = "(SELECT min(search_key) FROM c)" if top_of_m else "NULL::bigint"
    team_ids = "SELECT team_id FROM f" if "team" in shared else "SELECT NULL::bigint"
    if "team" in query.filters:
        team_ids += " UNION SELECT value::bigint FROM o WHERE facet = 'team'"
    cursor.execute(
        f"WITH {', '.join(ctes)}, o AS ({own_sql}) "
        "SELECT (SELECT json_agg(f) FROM f), (SELECT json_agg(t) FROM t),"
        " (SELECT COUNT(*) FROM tg), (SELECT json_agg(o) FROM o),"
        " ARRAY(SELECT id FROM p), (SELECT COUNT(*) FROM ranked),"
        " ARRAY(SELECT id FROM ranked),"
        " (SELECT json_agg(json_build_array(id, slug, name)) FROM registry_team"
        f"  WHERE id IN ({team_ids})), {floor}",
        params,
    )
    (
        facet_rows, tag_rows, tag_total, own_rows, ids, ranked_count, ranked_ids, team_rows,
        candidates_floor,
    ) = cursor.fetchone()  # fmt: skip
    if top_of_m:  # the matches below the candidates read from m
        threshold = candidates_floor

    scale = main.scale
    rows = [(*(r[c] for c in columns), r["g"], _scaled(r["n"], scale)) for r in facet_rows or []]
    counts, total = read_grouping_sets(shared, rows)
    if not main.exact and main.where.sql == "TRUE" and abs(catalog_size - total) < total / 10:
        # The whole catalog: the planner's row count (kept by autovacuum's ANALYZE) is
        # a closer estimate than a sample's, unless it is stale (far from the sample's).
        total = catalog_size
    for facet in SCALAR_FACETS:
        counts.setdefault(facet, {})
    tags_exact = query.exact or (main.exact and total <= settings.SEARCH_EXACT_LIMIT)
    tag_scale = 1 if tags_exact else KEYS / tag_keys
    counts["tag"] = {r["tag"]: _scaled(r["n"], tag_scale) for r in tag_rows or []}
    by_facet = {s.facet: s for s in sets[1:]}
    for r in own_rows or []:
        value = int(r["value"]) if r["facet"] == "team" else r["value"]
        counts[r["facet"]][value] = _scaled(r["n"], by_facet[r["facet"]].scale)
    ids = list(ids or [])
    offset = (query.page - 1) * query.per_page
    if ranked and threshold is not None and len(ids) <= query.per_page:
        # The page reaches past the ranked rows: continue in the static order.
        skip = max(0, offset - ranked_count)
        ids += _rest_ids(
            cursor, main, threshold, list(ranked_ids or []), skip,
            query.per_page + 1 - len(ids),
        )  # fmt: skip
    has_next = len(ids) > query.per_page and offset + query.per_page < MAX_RESULTS
    return BoundedResult(
        counts=counts,
        total=total,
        total_is_exact=main.exact,
        facet_exact={
            **{
                facet: by_facet[facet].exact if facet in by_facet else main.exact
                for facet in SCALAR_FACETS
            },
            "tag": tags_exact,
        },
        ids=ids[: query.per_page],
        has_next=has_next,
        teams={pk: (slug, name) for pk, slug, name in team_rows or []},
        tag_total=tag_total or 0,
    )


def _scaled(n: int, scale: float) -> int:
    return n if scale == 1 else round(n * scale)
