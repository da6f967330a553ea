"""A client that disconnects in the middle of an upload leaves nothing behind.

Against pytest-django's live server with a raw socket: the request declares the whole
body's Content-Length, sends only part of it and closes. No version, no audit event,
no stored or temporary file may remain, and the next registration gets the number
(and may use the label) the cut-off one would have taken.
"""

import json
import socket
import threading
from urllib.parse import quote_plus, urlsplit

import pytest
from django.core.signals import request_finished

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = "cut-off-boundary-7d1f"
ARTIFACT = b"\x00weights\xff" * 300_000  # 3 MB: larger than one read chunk


def _part(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _body() -> tuple[bytes, int, int]:
    """A registration with fields, the file, and release notes after the file.
    Returns the body and the offsets of the file's middle and the notes' middle."""
    head = b"".join(
        [
            _part("label", "1.0.0"),
            _part("framework", "pytorch"),
            _part("metrics", json.dumps([{"name": "auc", "value": 0.9}])),
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="artifact"; '
            f'filename="model.pt"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode(),
        ]
    )
    notes = "Trained on the full 2024 data. " * 200
    tail = b"\r\n" + _part("release_notes", notes) + f"--{BOUNDARY}--\r\n".encode()
    body = head + ARTIFACT + tail
    in_file = len(head) + len(ARTIFACT) // 3
    in_notes = len(head) + len(ARTIFACT) + 2 + len(_part("release_notes", notes)) // 2
    return body, in_file, in_notes


def _send_cut_off(url: str, path: str, token: str, body: bytes, cut: int, *, half_close: bool):
    """Send the headers and body[:cut], then close; the status line if the server answered."""
    parts = urlsplit(url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    try:
        sock.sendall(head + body[:cut])
        if not half_close:
            return None
        sock.shutdown(socket.SHUT_WR)  # the server sees the end of the body here
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer.split(b"\r\n", 1)[0].decode()
    finally:
        sock.close()


@pytest.fixture
def upload_tmp(settings, tmp_path):
    """Django's temporary upload files go here, so a leftover one can be seen."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.fixture
def finished():
    """Set when the server has finished with a request (even one nobody reads)."""
    done = threading.Event()

    def receiver(**kwargs):
        done.set()

    request_finished.connect(receiver)
    yield done
    request_finished.disconnect(receiver)


def _files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("where", ["inside the file", "after the file"])
@pytest.mark.parametrize("half_close", [True, False], ids=["half-closed", "closed"])
def test_a_cut_off_upload_leaves_nothing_and_frees_the_number(
    live_server,
    model,
    token_client,
    member,
    artifact_dir,
    upload_tmp,
    finished,
    where,
    half_close,
):
    api = token_client(member)
    body, in_file, in_notes = _body()
    events_before = AuditEvent.objects.count()

    status = _send_cut_off(
        live_server.url,
        f"/api/models/{model.name}/versions/",
        api.secret,
        body,
        in_file if where == "inside the file" else in_notes,
        half_close=half_close,
    )

    assert finished.wait(30), "the server never finished the cut-off request"
    if half_close:
        assert status.startswith("HTTP/1.1 400"), status
    assert not ModelVersion.objects.filter(model=model).exists()
    assert AuditEvent.objects.count() == events_before
    assert _files(artifact_dir) == []
    assert _files(upload_tmp) == []

    # The number and the label are still free.
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {"label": "1.0.0", "framework": "pytorch", "artifact_uri": "s3://models/1/model.pt"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 1


def test_the_whole_body_sent_the_same_way_registers(
    live_server, model, token_client, member, artifact_dir, upload_tmp, finished
):
    """The control: the same raw request, not cut off, stores the version and its file."""
    api = token_client(member)
    body, _, _ = _body()

    status = _send_cut_off(
        live_server.url,
        f"/api/models/{model.name}/versions/",
        api.secret,
        body,
        len(body),
        half_close=True,
    )

    assert status.startswith("HTTP/1.1 201"), status
    version = ModelVersion.objects.get(model=model)
    assert (version.number, version.artifact_size) == (1, len(ARTIFACT))
    assert version.release_notes.startswith("Trained on the full 2024 data.")
    assert [p.read_bytes() for p in _files(artifact_dir)] == [ARTIFACT]
    assert _files(upload_tmp) == []


def test_a_cut_off_form_post_saves_nothing(live_server, client, member, model, finished):
    """No browser form takes a file, but the same cut applies to every form: a metadata
    edit cut inside its last field must not save the fields that did arrive."""
    client.force_login(member)
    session = client.cookies["sessionid"].value
    csrf = "c" * 32
    fields = {
        "csrfmiddlewaretoken": csrf,
        "name": model.name,
        "team": model.team_id,
        "owner": member.pk,
        "purpose": "Changed purpose.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": model.evaluation_coverage,
        "tags": "fraud",
        "description": "A new description. " * 500,
    }
    body = "&".join(f"{k}={quote_plus(str(v))}" for k, v in fields.items()).encode()
    parts = urlsplit(live_server.url)
    head = (
        f"POST /models/{model.name}/edit/ HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Cookie: sessionid={session}; csrftoken={csrf}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head + body[: len(body) - 1000])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        answer = answer.decode()
        status = answer.split("\r\n", 1)[0]

    assert finished.wait(30)
    assert status.startswith("HTTP/1.1 400"), answer
    model.refresh_from_db()
    assert (model.purpose, model.license) == (
        "Block or review risky payments at checkout.",
        "proprietary",
    )
    assert not AuditEvent.objects.filter(action=Action.MODEL_UPDATED).exists()
