"""HTTP entry points of the web tier (blueprints built from a runtime; no app at import time)."""
