"""A real webhook receiver on 127.0.0.1 and targets that point at it; a real bare Git
repository on disk and Git targets that push to it."""

import functools
import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> dict:
        """The payload, if the signature verifies with `secret` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers, seconds to wait first),
    then 200 once the script runs out; records every request. Status "trickle" sends
    its head one line every 0.3 s for 6 s."""

    url: str = ""
    script: list = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *replies) -> "Receiver":
        self.script.extend(replies)
        return self

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                reply = state.script.pop(0) if state.script else (200, {}, 0)
            reply = reply if isinstance(reply, tuple) else (reply,)
            status = reply[0]
            headers = reply[1] if len(reply) > 1 else {}
            wait = reply[2] if len(reply) > 2 else 0
            state.received.append(
                Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            )
            if wait:
                time.sleep(wait)
            if status == "trickle":  # a header line every 0.3 s, for 6 s
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(20):
                        self.wfile.write(b"X-Slow: still here\r\n")
                        self.wfile.flush()
                        time.sleep(0.3)
                except OSError:
                    pass
                return
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/modelgate"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_settings(settings):
    """Receivers on 127.0.0.1 allowed; retries due at once and timeouts short, so tests
    do not wait."""
    settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_TOTAL_TIMEOUT_SECONDS = 2
    settings.MODELGATE_BASE_URL = "https://modelgate.example.com"
    return settings


@pytest.fixture
def make_target(admin_user, receiver, webhook_settings):
    """A target for all models pointing at the receiver; returns (target, secret)."""
    from registry.services import deployment_target_create

    counter = {"n": 0}

    def make(**overrides):
        counter["n"] += 1
        values = {
            "actor": admin_user,
            "name": f"argo-prod-{counter['n']}",
            "environment": "production",
            "url": receiver.url,
            "events": ["version.promoted.production", "version.promoted.staging"],
            **overrides,
        }
        return deployment_target_create(**values)

    return make


@pytest.fixture
def promote_now(admin_user, member):
    """Apply a promotion at once: a policy needing no approval, staging skippable."""
    from approvals.services import policy_publish, transition_request

    published = set()

    def promote(version, stage="production"):
        if (version.model_id, stage) not in published:
            policy_publish(
                actor=admin_user,
                stage=stage,
                model=version.model,
                rules={"required_approvals": 0, "allow_skip_staging": True},
                reason="Promotions of this model in the test need no approval.",
            )
            published.add((version.model_id, stage))
        request = transition_request(
            actor=member,
            version=version,
            to_stage=stage,
            reason="Beats the current model on the hold-out set.",
        )
        request.refresh_from_db()
        assert request.state == "applied", request.blocked_reason
        return request

    return promote


# --- Git targets (registry/deployments/gitops.py) -----------------------------------------


class BareRepo:
    """A real bare Git repository on disk, the remote a Git target pushes to."""

    def __init__(self, path):
        self.path = path
        self.url = f"file://{path}"

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout

    def manifest(self, path="deploy/models.json", branch="main") -> dict:
        return json.loads(self.git("show", f"{branch}:{path}"))

    def commits(self, branch="main") -> list[str]:
        """The branch's commit subjects, newest first ([] while it has none)."""
        if not self.git("for-each-ref", f"refs/heads/{branch}").strip():
            return []
        return self.git("log", "--format=%s", branch).splitlines()

    def message(self, rev="main") -> str:
        return self.git("log", "-1", "--format=%B", rev)

    def hook(self, name: str, script: str | None) -> None:
        """Install (or with None remove) a server-side hook such as pre-receive."""
        hook = self.path / "hooks" / name
        if script is None:
            hook.unlink(missing_ok=True)
            return
        hook.write_text("#!/bin/sh\n" + script + "\n")
        hook.chmod(0o755)

    def commit_from_elsewhere(self, files: dict[str, str], message: str, branch="main") -> None:
        """Someone else pushes a commit to `branch` (a clone of their own)."""
        with tempfile.TemporaryDirectory() as work:
            run = functools.partial(
                subprocess.run, cwd=work, check=True, capture_output=True, timeout=30
            )
            run(["git", "clone", "-q", self.url, "."])
            run(["git", "symbolic-ref", "HEAD", f"refs/heads/{branch}"])
            if self.commits(branch):
                run(["git", "reset", "-q", "--hard", f"origin/{branch}"])
            for name, text in files.items():
                target = os.path.join(work, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w") as f:
                    f.write(text)
                run(["git", "add", name])
            run(["git", "-c", "user.name=Dana", "-c", "user.email=dana@example.com",
                 "commit", "-q", "-m", message])  # fmt: skip
            run(["git", "push", "-q", "origin", f"HEAD:{branch}"])


@pytest.fixture
def git_root(settings, tmp_path):
    """The directory local Git targets are allowed in (MODELGATE_GITOPS_LOCAL_DIR)."""
    root = tmp_path / "git"
    root.mkdir()
    settings.MODELGATE_GITOPS_LOCAL_DIR = str(root)
    return root


@pytest.fixture
def bare_repo(git_root):
    path = git_root / "deploy.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True, timeout=30)
    return BareRepo(path)


@pytest.fixture
def make_git_target(admin_user, bare_repo, webhook_settings):
    """A Git target for all models, pushing deploy/models.json to bare_repo's main."""
    from registry.services import deployment_target_create

    def make(**overrides):
        values = {
            "actor": admin_user,
            "kind": "git",
            "name": "argo-gitops-prod",
            "environment": "production",
            "repository": bare_repo.url,
            "branch": "main",
            "manifest_path": "deploy/models.json",
            "events": ["version.promoted.production", "version.archived"],
            **overrides,
        }
        target, secret = deployment_target_create(**values)
        assert secret == ""
        return target

    return make
