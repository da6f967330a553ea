from registry.errors import RegistryError


class ApprovalError(RegistryError):
    """A request or review that cannot go ahead in the request's current state (409)."""

    status_code = 409
