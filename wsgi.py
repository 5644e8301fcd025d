"""WSGI entry point: `gunicorn wsgi:app`, and what `flask` discovers."""

from vat import create_app

app = create_app()
