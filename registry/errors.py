"""Domain errors raised by registry services; views and the API map them to responses."""


class RegistryError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Conflict(RegistryError):
    """A name or label that must be unique is already taken (HTTP 409)."""

    status_code = 409


class ArtifactTooLarge(RegistryError):
    """An uploaded artifact is over ARTIFACT_MAX_BYTES (HTTP 413)."""

    status_code = 413


class CardChanged(RegistryError):
    """A card save started from a revision that is no longer the current one (HTTP 412):
    someone else saved the card meanwhile. `card` is the card as it is now."""

    status_code = 412

    def __init__(self, message: str, *, card):
        super().__init__(message)
        self.card = card


class AliasProtected(RegistryError):
    """A protected alias (settings.MODELGATE_PROTECTED_ALIASES) set or deleted without an
    approved request (HTTP 403): the message says how to go through one."""

    status_code = 403


class AliasMissing(RegistryError):
    """The model has no alias of that name (HTTP 404)."""

    status_code = 404
