"""Swagger UI at /docs from the vendored swagger-ui-dist, so the API docs work offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

SWAGGER_UI = "swagger-ui-5.35.0"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/static"


def _drop_cdn_docs(app: FastAPI) -> None:
    """Remove FastAPI's CDN-backed /docs, /redoc and oauth2-redirect routes, if the app has them."""
    paths = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in paths]
    app.docs_url = app.redoc_url = None


def _ensure_static(app: FastAPI) -> None:
    """Mount gridsvc/static at /static unless something is mounted there already."""
    if not any(isinstance(r, Mount) and r.path == STATIC_URL for r in app.router.routes):
        app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")


def mount_docs(app: FastAPI, docs_url: str = "/docs") -> None:
    """Serve Swagger UI at docs_url from /static/vendor; drop the CDN docs and ReDoc."""
    _drop_cdn_docs(app)
    _ensure_static(app)

    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        vendor = f"{root}{STATIC_URL}/vendor/{SWAGGER_UI}"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} – API docs",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js", swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url="data:,", swagger_ui_parameters={"validatorUrl": None})

    app.add_api_route(docs_url, swagger_ui, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
