"""The tamper-evident audit trail: canonical JSON, the hash chain, guards,
signed checkpoints and verification. See docs/audit.md for the exact recipe."""
