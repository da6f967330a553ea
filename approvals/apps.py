from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self) -> None:
        from audit.signals import event_recorded
        from registry.selectors import MODEL_PAGE_PARTS, VERSION_PAGE_PARTS

        from .selectors import approvers_part, pending_part, policies_part, stage_history_part
        from .services.staleness import on_event_recorded

        # The version page reads its stage history in the statement that reads the
        # version; the model page its approvals section's rows with the model.
        VERSION_PAGE_PARTS["stage_history"] = stage_history_part
        MODEL_PAGE_PARTS["pending"] = pending_part
        MODEL_PAGE_PARTS["policies"] = policies_part
        MODEL_PAGE_PARTS["approvers"] = approvers_part

        # An approval goes stale when what it was given on changes; the inbox learns it
        # from the audit events every such change writes (services/staleness.py).
        event_recorded.connect(on_event_recorded, dispatch_uid="approvals-staleness")
