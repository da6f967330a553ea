"""The Git side of a deployment target (issue 10 point 5b): which repositories, branches
and manifest paths are allowed, and one attempt of a delivery as a commit and push.

The manifest is one JSON document per target (JSON is YAML, so Helm value files and
Kustomize read it too), keyed by model name:

    {"models": {"fraud-scorer": {"version": 7, "label": "1.4.0", "artifact_uri": ...,
     "artifact_sha256": ..., "approvers": [...], "reason": ..., "request_id": 42,
     "stage": "production", "event": "version.promoted.production"}}}

Each attempt clones the branch into a temporary directory, replaces only its model's
entry (other models' entries and other top-level keys are kept), commits as
MODELGATE_GITOPS_AUTHOR_NAME/EMAIL with the reason and request id in the message, and
pushes. A push refused as not a fast-forward (someone else pushed meanwhile) is retried
once within the attempt on the fresh branch; anything else is the attempt's error, and
the outbox retries it on the webhook schedule. When the manifest already says what the
delivery says, nothing is committed and the delivery counts as delivered (redelivery
is idempotent).

The `git` command runs without a shell, with its arguments as a list, a deadline, no
terminal prompts, only the file, https and ssh transports, and no hooks or signing from
the worker's configuration. Credentials come from the worker's environment (an ssh key
or a credential helper), never from the URL: URLs with a password are refused, and
anything that looks like credentials is masked in the attempt log.
"""

import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from .addresses import AddressRefused, address_kind, resolve

ERROR_MAX_CHARS = 500
MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
_SCP_LIKE = re.compile(
    r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*|/.+)$"
)
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
# On these events the manifest names the event's version; on an archive the model's
# entry is removed if it names the archived version.
REMOVING_EVENTS = ("version.archived",)


class RepositoryRefused(Exception):
    """The repository, branch or manifest path may not be used; the message says why."""


def _local_root() -> Path | None:
    root = settings.MODELGATE_GITOPS_LOCAL_DIR
    return Path(root).resolve() if root else None


def _check_host(host: str, port: int) -> None:
    for address in resolve(host, port):
        kind = address_kind(address)
        if kind:
            raise RepositoryRefused(
                f"{host} resolves to {address}, {kind}: Git targets go only to public "
                "addresses (an operator can allow private ones with "
                "MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)."
            )


def repository_check(repository: str) -> str:
    """Raise RepositoryRefused unless `repository` is an https or ssh URL without a
    password to a public host, or a local repository (a path or file:// URL) under
    MODELGATE_GITOPS_LOCAL_DIR; returns the repository as git will be given it."""
    repository = repository.strip()
    if not repository:
        raise RepositoryRefused("Give the repository's URL, e.g. git@github.com:org/deploy.git.")
    if repository.startswith("-") or any(c.isspace() or ord(c) < 32 for c in repository):
        raise RepositoryRefused("A repository URL has no spaces and does not start with '-'.")
    if repository.startswith(("/", "file://")):
        return _local_check(repository)
    if "://" in repository:
        try:
            parts = urlsplit(repository)
            port = parts.port
        except ValueError as exc:
            raise RepositoryRefused(f"This is not a valid URL ({exc}).") from None
        if parts.scheme not in ("https", "ssh"):
            raise RepositoryRefused(
                "Use an https:// or ssh:// URL (or user@host:path) for a Git repository."
            )
        if not parts.hostname or not parts.path.strip("/"):
            raise RepositoryRefused("The URL needs a host and the repository's path.")
        if parts.password or (parts.scheme == "https" and parts.username):
            raise RepositoryRefused(
                "Put no user name, password or token in the URL: the worker's Git "
                "credentials (an ssh key or a credential helper) authenticate the push."
            )
        _check_host(parts.hostname, port or (443 if parts.scheme == "https" else 22))
        return repository
    match = _SCP_LIKE.match(repository)
    if not match:
        raise RepositoryRefused(
            "Use an https:// or ssh:// URL, user@host:path, or a local path under "
            "MODELGATE_GITOPS_LOCAL_DIR."
        )
    _check_host(match["host"], 22)
    return repository


def _local_check(repository: str) -> str:
    root = _local_root()
    if root is None:
        raise RepositoryRefused(
            "Local repositories are refused: an operator allows them only under the "
            "directory named by MODELGATE_GITOPS_LOCAL_DIR."
        )
    raw = repository[len("file://") :] if repository.startswith("file://") else repository
    if not raw.startswith("/"):
        raise RepositoryRefused("A file:// URL needs an absolute path (file:///srv/git/x.git).")
    path = Path(raw).resolve()  # through symlinks and '..'
    if path == root or root not in path.parents:
        raise RepositoryRefused(
            f"Local repositories must be inside {root} (MODELGATE_GITOPS_LOCAL_DIR); {raw} is not."
        )
    return repository


def branch_check(branch: str) -> str:
    branch = branch.strip()
    if (
        not branch
        or len(branch) > 200
        or not _BRANCH.match(branch)
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or ".." in branch
        or "//" in branch
    ):
        raise RepositoryRefused(
            "Name a branch with letters, digits, '.', '_', '-' and '/', e.g. main or "
            "deploy/production."
        )
    return branch


def manifest_path_check(path: str) -> str:
    path = path.strip()
    segments = path.split("/")
    if (
        not path
        or len(path) > 300
        or path.startswith("/")
        or not all(_PATH_SEGMENT.match(s) and s not in (".", "..") for s in segments)
        or segments[0] == ".git"
    ):
        raise RepositoryRefused(
            "Give a path inside the repository, relative, without '..', e.g. "
            "models/production.json."
        )
    if not path.endswith(MANIFEST_SUFFIXES):
        raise RepositoryRefused(
            "The manifest is a JSON document (which is YAML too): end its name with .json, "
            ".yaml or .yml."
        )
    return path


# --- One attempt --------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    started_at: datetime
    latency_ms: int
    pushed: bool = False
    summary: str = ""  # what happened, for the attempt log
    error: str = ""
    refused: bool = False  # retrying would not help (repository refused)


class _GitFailed(Exception):
    pass


def mask(text: str) -> str:
    """`text` with anything like user:password@ in URLs masked, and shortened."""
    text = _CREDENTIALS.sub(lambda m: m["scheme"] + "***@", text).strip()
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


class _Git:
    def __init__(self, workdir: str, deadline: float):
        self.workdir = workdir
        self.deadline = deadline
        self.env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": "file:https:ssh",
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
        }

    def __call__(self, *args: str, input: str | None = None, check: bool = True):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _GitFailed(f"Gave up: the attempt took over {settings.GITOPS_TIMEOUT_SECONDS} s.")
        command = [
            "git",
            "-c", "core.hooksPath=/dev/null",
            "-c", "commit.gpgsign=false",
            "-c", "credential.interactive=never",
            *args,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                cwd=self.workdir,
                env=self.env,
                input=input,
                capture_output=True,
                text=True,
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise _GitFailed(
                f"git {args[0]} did not finish within {settings.GITOPS_TIMEOUT_SECONDS} s."
            ) from None
        if check and done.returncode != 0:
            raise _GitFailed(f"git {args[0]} failed: {mask(done.stderr or done.stdout)}")
        return done


def _entry(payload: dict) -> dict:
    data = payload["data"]
    version = data["version"]
    return {
        "version": version["number"],
        "label": version["label"],
        "artifact_uri": version["artifact_uri"],
        "artifact_sha256": version["artifact_sha256"],
        "stage": data["to_stage"],
        "approvers": data["approvers"],
        "reason": data["reason"],
        "request_id": data["request_id"],
        "event": payload["type"],
    }


def _updated(current: str | None, payload: dict) -> str:
    """The manifest's new text for this delivery (the same text if nothing changes)."""
    if current is None:
        document: dict = {}
    else:
        try:
            document = json.loads(current)
        except ValueError as exc:
            raise _GitFailed(
                f"The manifest is not valid JSON ({exc}); fix it in the repository."
            ) from None
    if not isinstance(document, dict) or not isinstance(document.setdefault("models", {}), dict):
        raise _GitFailed('The manifest must be a JSON object with a "models" object in it.')
    name = payload["data"]["model"]["name"]
    if payload["type"] in REMOVING_EVENTS:
        entry = document["models"].get(name)
        if entry and entry.get("version") == payload["data"]["version"]["number"]:
            del document["models"][name]
    else:
        document["models"][name] = _entry(payload)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _message(payload: dict, *, webhook_id: str) -> str:
    data = payload["data"]
    model, version = data["model"]["name"], data["version"]
    removing = payload["type"] in REMOVING_EVENTS
    named = f"{model} v{version['number']} ({version['label']})"
    subject = f"Remove {named}: archived" if removing else f"Deploy {named} to {data['to_stage']}"
    lines = [
        subject,
        "",
        f"Reason: {data['reason']}",
        "",
        f"Approvers: {', '.join(data['approvers']) or 'none'}",
        f"Event: {payload['type']}",
        f"Modelgate-Request: {data['request_id']}",
        f"Modelgate-Delivery: {webhook_id}",
    ]
    return "\n".join(lines) + "\n"


def _fetch(git: _Git, branch: str) -> bool:
    """Fetch `branch` and check it out; False when the remote does not have it yet."""
    heads = git("ls-remote", "--heads", "origin", f"refs/heads/{branch}").stdout
    if not heads.strip():
        git("symbolic-ref", "HEAD", f"refs/heads/{branch}")  # its first commit makes it
        return False
    git("fetch", "-q", "--depth=1", "origin", f"refs/heads/{branch}")
    git("checkout", "-q", "-B", branch, "FETCH_HEAD")
    return True


def _rejected_as_stale(push) -> bool:
    # `git push --porcelain`: "!<tab>src:dst<tab>[rejected] (fetch first)" when the remote
    # moved on; "[remote rejected]" is the server's (a hook's) own refusal.
    return any(line.startswith("!") and "\t[rejected]" in line for line in push.stdout.splitlines())


def _push_refusal(push) -> str:
    """Why a push failed, from its porcelain lines ("[remote rejected] (pre-receive hook
    declined)") and what the remote said (its hook's output), without the URL."""
    reasons = [line.split("\t")[-1] for line in push.stdout.splitlines() if line.startswith("!")]
    said = [line for line in push.stderr.splitlines() if line.startswith("remote:")]
    if not reasons and not said:
        said = push.stderr.splitlines()
    why = "; ".join(reasons) or "failed"
    remote = " ".join(line.removeprefix("remote:").strip() for line in said).strip()
    return f"git push {why}" + (f": {remote}" if remote else "")


def push_manifest(
    *, repository: str, branch: str, manifest_path: str, webhook_id: str, body: str
) -> PushResult:
    """One attempt of a Git delivery: commit what `body` (the delivery's frozen JSON)
    says into the manifest and push it; never raises for what git or the remote does."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - clock) * 1000)

    try:
        repository_check(repository)
        branch_check(branch)
        manifest_path_check(manifest_path)
    except (RepositoryRefused, AddressRefused) as exc:
        return PushResult(started_at, took(), error=str(exc), refused=True)
    payload = json.loads(body)
    if payload["type"] == "test":
        message = None  # a test only checks the repository can be fetched
    else:
        message = _message(payload, webhook_id=webhook_id)
    with tempfile.TemporaryDirectory(prefix="modelgate-git-") as workdir:
        git = _Git(workdir, clock + settings.GITOPS_TIMEOUT_SECONDS)
        try:
            git("init", "-q")
            git("remote", "add", "origin", repository)
            for attempt in (1, 2):
                existed = _fetch(git, branch)
                if message is None:
                    head = git("rev-parse", "--short", "HEAD", check=False).stdout.strip()
                    summary = (
                        f"Fetched {branch} at {head}; nothing was written (a test event)."
                        if existed
                        else f"The repository answers; branch {branch} does not exist yet."
                    )
                    return PushResult(started_at, took(), pushed=True, summary=summary)
                manifest = Path(workdir, manifest_path)
                current = manifest.read_text(encoding="utf-8") if manifest.exists() else None
                text = _updated(current, payload)
                if text == current:
                    head = git("rev-parse", "--short", "HEAD").stdout.strip()
                    return PushResult(
                        started_at,
                        took(),
                        pushed=True,
                        summary=f"{manifest_path} on {branch} already says this at {head}; "
                        "nothing committed.",
                    )
                manifest.parent.mkdir(parents=True, exist_ok=True)
                manifest.write_text(text, encoding="utf-8")
                git("add", "--", manifest_path)
                name = settings.MODELGATE_GITOPS_AUTHOR_NAME
                email = settings.MODELGATE_GITOPS_AUTHOR_EMAIL
                git(
                    "-c", f"user.name={name}", "-c", f"user.email={email}",
                    "commit", "-q", "--no-verify", "-F", "-",
                    input=message,
                )  # fmt: skip
                push = git(
                    "push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}", check=False
                )
                if push.returncode == 0:
                    head = git("rev-parse", "--short", "HEAD").stdout.strip()
                    retried = " after the branch moved on" if attempt == 2 else ""
                    return PushResult(
                        started_at,
                        took(),
                        pushed=True,
                        summary=f"Pushed {head} to {branch}{retried}: {manifest_path}.",
                    )
                if attempt == 1 and _rejected_as_stale(push):
                    continue  # someone pushed meanwhile: fetch again and redo the change
                raise _GitFailed(_push_refusal(push))
        except _GitFailed as exc:
            return PushResult(started_at, took(), error=mask(str(exc)))
    raise AssertionError("unreachable")  # pragma: no cover
