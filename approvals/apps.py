from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        from audit.signals import event_recorded

        from .services.staleness import on_event_recorded

        # An approval goes stale when what it was given on changes; the inbox learns it
        # from the audit events every such change writes (services/staleness.py).
        event_recorded.connect(on_event_recorded, dispatch_uid="approvals-staleness")
