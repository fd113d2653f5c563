"""WSGI entry point for gunicorn: `gunicorn wsgi:app`. Never starts the scheduler."""

from majlis import create_app

app = create_app()
