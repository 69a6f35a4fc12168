"""Third-party model pairs (both sides written by others), built from configs: install the `ports` extra."""
