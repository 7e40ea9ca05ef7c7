"""ASGI entry point for uvicorn workers: `uvicorn gridsvc.api.main:app`."""

from .app import create_app

app = create_app()
