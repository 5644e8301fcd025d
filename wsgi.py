"""WSGI entry point: `gunicorn wsgi:app`, and what `flask` discovers (with the seeding commands)."""

from seeding.cli import register as register_seeding
from vat import create_app

app = create_app()
register_seeding(app)
