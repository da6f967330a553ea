"""A request's parameters as MLflow's client sends them: the query string for GET,
a JSON object in the body for POST, PATCH and DELETE."""

from registry.api.parsers import json_body_problems, loads_bounded

from .errors import MlflowError, invalid


class Params:
    def __init__(self, data: dict, multi: dict[str, list] | None = None):
        self.data = data
        self.multi = multi or {}

    @classmethod
    def of(cls, request) -> "Params":
        if request.method == "GET":
            multi = {k: request.GET.getlist(k) for k in request.GET}
            return cls({k: v[-1] for k, v in multi.items()}, multi)
        if not request.body:
            return cls({})
        try:
            data = loads_bounded(request.body)
        except ValueError as exc:  # also undecodable bytes and nesting too deep
            raise MlflowError(
                "MALFORMED_REQUEST", f"The request body is not valid JSON: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise MlflowError("MALFORMED_REQUEST", "The request body must be a JSON object.")
        # Text PostgreSQL cannot store (NUL, lone surrogates) is refused before any query.
        problems = json_body_problems(data)
        if problems:
            raise invalid(
                " ".join(f"{field}: {' '.join(reasons)}" for field, reasons in problems.items())
            )
        return cls(data)

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid(f"Parameter '{name}' must be a string.")
        return str(value)

    def integer(self, name: str, *, default: int, least: int = 0, most: int) -> int:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value) if not isinstance(value, bool | float) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not least <= number <= most:
            raise invalid(f"Parameter '{name}' must be a whole number from {least} to {most}.")
        return number

    def strings(self, name: str) -> list[str]:
        value = self.multi.get(name) if name in self.multi else self.data.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"Parameter '{name}' must be a list of strings.")
        return value

    def version(self) -> int:
        raw = self.text("version", required=True)
        try:
            number = int(raw)
        except ValueError:
            number = -1
        if not 0 < number < 2**31:
            raise invalid(f"Parameter 'version' must be a version number, not {raw!r}.")
        return number
