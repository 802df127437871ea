"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from fieldsales import create_app

app = create_app()
