"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

With no ADVOCACY_BROKER_URL (the embedded mode) each gunicorn worker process runs its own in-process
worker and scheduler, as ``advocacy serve`` does; with a broker, run ``advocacy worker`` beside it.
"""

from advocacy import create_app
from advocacy.worker import EmbeddedWorker

app = create_app()

if not app.config["BROKER_URL"]:
    EmbeddedWorker(app).start()
