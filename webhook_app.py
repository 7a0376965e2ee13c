"""The web tier's entry point, as the design card names it: `gunicorn 'webhook_app:create_app()'`.

Importing this builds and connects nothing; `create_app()` builds the Flask app from the
settings (environment or `.env`) and the config file, and connects on first use.
"""

from connector.webhook_app import create_app

__all__ = ["create_app"]
