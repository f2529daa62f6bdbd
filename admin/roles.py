"""The eight roles of the public contract (ARCHITECTURE.md). Their permission sets and
scopes are completed in the admin-panel issue; at the foundation stage Admin holds every
permission and the other roles exist so that accounts can be created for them."""

from __future__ import annotations

ROLES = (
    "Admin",
    "BureauOfficer",
    "BureauAnalyst",
    "Leadership",
    "SchoolRegistrar",
    "SchoolLeader",
    "Teacher",
    "Parent",
)
