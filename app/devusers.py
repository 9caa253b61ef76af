"""Demo users, one per agency and role, for dev mode only (``iffgraph demo``).

Passwords are random per demo run and printed once: there are no default credentials to leak.
"""

from __future__ import annotations

import secrets

from app.settings import Settings
from app.users import Role, UserAgency, UserCreate, UserError, Users

DEV_USERS: dict[str, tuple[UserAgency, list[Role]]] = {
    "customs.analyst": (UserAgency.CUSTOMS, [Role.ANALYST]),
    "fiu.analyst": (UserAgency.FIU, [Role.ANALYST]),
    "fiu.liaison": (UserAgency.FIU, [Role.LIAISON]),
    "tax.analyst": (UserAgency.TAX, [Role.ANALYST]),
    "customs.supervisor": (UserAgency.CUSTOMS, [Role.SUPERVISOR]),
    "admin": (UserAgency.CUSTOMS, [Role.ADMIN]),
}


class DevModeError(RuntimeError):
    """Demo users asked for outside dev mode."""


def seed_dev_users(users: Users, settings: Settings) -> dict[str, str]:
    """Create the demo users that do not exist yet; return username -> new password."""
    if not settings.dev_mode:
        raise DevModeError("demo users exist only in dev mode (IFFGRAPH_DEV_MODE=1)")
    created: dict[str, str] = {}
    for name, (agency, roles) in DEV_USERS.items():
        password = secrets.token_urlsafe(12)
        try:
            users.add(UserCreate(username=name, password=password, agency=agency, roles=roles))
        except UserError:
            continue  # kept from an earlier run; its password was printed then
        created[name] = password
    return created
