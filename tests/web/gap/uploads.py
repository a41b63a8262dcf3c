"""Drop files on a campaign's import page, as the browser's form sends them."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def upload(client: Any, campaign_id: int, files: Iterable[Path | tuple[str, bytes]]) -> Any:
    """POST files (paths, or (name, bytes)) to the import page; return the response."""
    token = client.csrf_token(f"/campaigns/{campaign_id}/gap/import")
    sent = [
        (io.BytesIO(f.read_bytes()), f.name) if isinstance(f, Path) else (io.BytesIO(f[1]), f[0])
        for f in files
    ]
    return client.post(
        f"/campaigns/{campaign_id}/gap/import",
        data={"csrf_token": token, "files": sent},
        content_type="multipart/form-data",
    )


def upload_one(client: Any, campaign_id: int, name: str, data: bytes) -> str:
    """Upload one file; return the URL of the new import's page."""
    response = upload(client, campaign_id, [(name, data)])
    assert response.status_code == 302
    return str(response.headers["Location"])
