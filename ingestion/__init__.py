"""Ingestion: the worker that follows the publication log and applies each publication to the
registry, exactly once (its position recorded with the events it produced)."""
