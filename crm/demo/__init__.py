"""The demo workspace: its seed, its mail sandbox and the prospects who answer it."""

from crm.demo.seed import (
    DEMO_CAMPAIGN,
    DEMO_COMPETITORS,
    DEMO_LOGIN,
    DEMO_SITE,
    DEMO_STEPS,
    DEMO_TARGETS,
    DEMO_TEAM,
    demo_logins,
    seed_demo_workspace,
)

__all__ = [
    "DEMO_CAMPAIGN",
    "DEMO_COMPETITORS",
    "DEMO_LOGIN",
    "DEMO_SITE",
    "DEMO_STEPS",
    "DEMO_TARGETS",
    "DEMO_TEAM",
    "demo_logins",
    "seed_demo_workspace",
]
