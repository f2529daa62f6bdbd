"""Electronic diplomas: issuing and revoking screens, the public verification page and the
REST resource `diploma` (admin/services/diplomas.py holds the rules)."""
