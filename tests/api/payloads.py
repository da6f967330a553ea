"""Building and reading API requests the way a pipeline sends them."""

import json

BOUNDARY = "modelgate-test-boundary"


def errors_of(response, status: int = 400) -> dict:
    """The per-field errors of a 400 answer (or of the 404 of a body naming something
    missing), after checking the shared error shape."""
    body = response.json()
    assert response.status_code == status, body
    assert body["detail"], body
    return body["errors"]


def raw_multipart(fields: dict, *, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body with a file name sent exactly as given (test clients sanitise it)."""
    chunks = []
    for name, value in fields.items():
        if not isinstance(value, str):
            value = json.dumps(value)
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    chunks.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="artifact"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={BOUNDARY}"
