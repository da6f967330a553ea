from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # Each app declares the actions it writes in its own audit_actions module
        # (audit.actions); importing them all here makes every name known before the
        # first event is written or listed, without audit importing any app by name.
        autodiscover_modules("audit_actions")
