from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        from django.db.models import CharField
        from django.db.models.functions import Lower

        # `name__lower=value.lower()` compiles to lower(name) = ..., which the unique
        # index on lower(name) serves; `iexact` (UPPER(...)) would scan every model.
        CharField.register_lookup(Lower)
