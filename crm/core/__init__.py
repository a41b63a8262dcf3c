"""Core services on users, campaigns and the audit log (flush, never commit)."""
