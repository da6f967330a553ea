"""Walk the audit log's hash chain; exit non-zero and name the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from audit.verification import BATCH_SIZE, chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain (gap-free sequence, links, hashes) in constant "
        "memory. Records the result for the audit page. Exits 1 at the first broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result, _ = chain_verify(batch_size=batch_size)
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(self.style.SUCCESS(result.summary()))
