"""WSGI entry point: `gunicorn wsgi:app`, and the app the `flask` command finds."""

from booking import create_app

app = create_app()
