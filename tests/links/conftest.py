"""Link tests: the app checks pages of the `pages` server, host names resolved to 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from tests.links.helpers import LINK_SETTINGS


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **LINK_SETTINGS}
