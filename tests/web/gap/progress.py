"""Follow a progress bar fragment (an import's or a bulk change's) as htmx does."""

from __future__ import annotations

import time
from typing import Any


def follow_progress(client: Any, page: str, *, timeout: float = 30) -> Any:
    """Poll `page`/progress until htmx is sent on; return that answer."""
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get(f"{page}/progress", headers={"HX-Request": "true"})
        if fragment.headers.get("HX-Redirect"):
            return fragment
        assert "<progress" in fragment.get_data(as_text=True)
        assert time.monotonic() < deadline, f"{page} never finished"
        time.sleep(0.05)
