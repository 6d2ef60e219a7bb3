"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

The wheel installs this module at the top of site-packages, so the same command works from an installed
wheel as from a checkout. Behind a reverse proxy set ADVOCACY_TRUSTED_PROXIES: the app reads the forwarded
client address and scheme itself (ProxyFix), whatever server runs it.

With no ADVOCACY_BROKER_URL (the embedded mode) each gunicorn worker process runs its own in-process
worker and scheduler, as ``advocacy serve`` does; with a broker, run ``advocacy worker`` beside it.
"""

from advocacy import create_app
from advocacy.worker import EmbeddedWorker

app = create_app()

if not app.config["BROKER_URL"]:
    EmbeddedWorker(app).start()
