"""Generate a large synthetic catalog fast, for load tests and benchmarks.

Rows are written in bulk (COPY on PostgreSQL), bypassing the per-row services and their
audit events; the load as a whole is recorded as one audit event.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from registry.demo.synthetic import synth_catalog, vacuum_analyze_tables


class Command(BaseCommand):
    help = "Bulk-generate synthetic models, versions, cards and metrics."

    def add_arguments(self, parser):
        parser.add_argument("--models", type=int, required=True)
        parser.add_argument("--versions-per-model", type=int, default=10)
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--teams", type=int, default=12)

    def handle(self, *args, models, versions_per_model, batch_size, seed, teams, **options):
        if models < 1 or versions_per_model < 0 or batch_size < 1 or teams < 1:
            raise CommandError(
                "--models, --batch-size and --teams must be at least 1; "
                "--versions-per-model at least 0."
            )
        # Keep a batch's rows in memory bounded whatever the versions per model.
        batch_size = max(1, min(batch_size, 200_000 // max(versions_per_model, 1)))
        with tqdm(total=models, unit="model", disable=options["verbosity"] == 0) as bar:
            result = synth_catalog(
                models=models,
                versions_per_model=versions_per_model,
                batch_size=batch_size,
                seed=seed,
                teams=teams,
                progress=bar.update,
            )
        vacuum_analyze_tables()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.models:,} models, {result.versions:,} versions, "
                f"{result.cards:,} cards, {result.metrics:,} metrics and "
                f"{result.lineage:,} lineage links in "
                f"{result.seconds:.1f} s (model ids {result.first_model_id}-"
                f"{result.last_model_id})."
            )
        )
