"""Integrations with job engines; each imports its engine only in its own subpackage."""
