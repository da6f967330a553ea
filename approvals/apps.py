from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        from audit.signals import event_recorded
        from registry.selectors import VERSION_PAGE_PARTS

        from .selectors import stage_history_part
        from .services.staleness import on_event_recorded

        # The version page reads its stage history in the statement that reads the version.
        VERSION_PAGE_PARTS["stage_history"] = stage_history_part()

        # An approval goes stale when what it was given on changes; the inbox learns it
        # from the audit events every such change writes (services/staleness.py).
        event_recorded.connect(on_event_recorded, dispatch_uid="approvals-staleness")
