"""Who may see and do what in the console: one table, enforced on every route
(bot/console/web.py) and tested as a matrix (tests/console/test_access.py). README
"The staff console" prints the same table.

Roles: a clerk (办事员) runs the queue and the files; the duty officer (值班) answers
emergencies; a leader (领导) sees everything and closes emergencies; the admin (系统管理员)
is the IT person: the audit log and staff accounts, not personal files.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PERMISSIONS", "ROLES", "allowed", "first_page"]

ROLES: Final = ("clerk", "duty", "leader", "admin")

# permission -> the roles that have it
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "board.view": frozenset({"clerk", "duty", "leader"}),  # open emergencies, with PII
    "alert.take": frozenset({"clerk", "duty", "leader"}),  # take one, add notes
    "alert.close": frozenset({"duty", "leader"}),  # close with an outcome
    "queue.view": frozenset({"clerk", "duty", "leader"}),
    "request.work": frozenset({"clerk", "duty", "leader"}),  # assign, change state, notes
    "handoff.reply": frozenset({"clerk", "duty", "leader"}),  # answer through the channel
    "people.view": frozenset({"clerk", "duty", "leader"}),  # files, timelines, transcripts
    "people.edit": frozenset({"clerk", "leader"}),  # edit a file, revoke a binding
    "import.run": frozenset({"clerk", "leader"}),  # load rosters and catalogues from sheets
    "audit.view": frozenset({"leader", "admin"}),
    "reports.view": frozenset({"leader"}),  # monthly figures (its list of people: people.view)
    "broadcast.view": frozenset({"clerk", "duty", "leader"}),  # see, preview, draft broadcasts
    "broadcast.send": frozenset({"leader"}),  # confirm (send) or withdraw a draft
    "export.run": frozenset({"clerk", "leader"}),  # Excel downloads (contact details: people.view)
    "catalogue.edit": frozenset({"clerk", "leader"}),  # activities, home-service slots, hospitals
    "policy.edit": frozenset({"clerk", "leader"}),  # policy articles: edit, preview the answer
    "volunteer.view": frozenset({"clerk", "duty", "leader"}),  # volunteers, balances, tasks
    "volunteer.manage": frozenset({"clerk", "leader"}),  # enter, offer, confirm hours, redeem
}

# Where a signed-in staff member lands: the first page their role may see.
LANDING: Final = (("board.view", "/console/board"), ("audit.view", "/console/audit"))


def allowed(role: str | None, permission: str) -> bool:
    """Whether a role has a permission (unknown permissions are nobody's)."""
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def first_page(role: str) -> str | None:
    """The page a role lands on after signing in (None: no page at all)."""
    for permission, path in LANDING:
        if allowed(role, permission):
            return path
    return None
