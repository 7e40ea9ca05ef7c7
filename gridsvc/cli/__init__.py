"""The `gridsvc` command line: database, ingest, build, export, demo and serve.

One module per command group (db.py: `gridsvc db …`, cases.py: `gridsvc cases …`, …); what they share is in
common.py. This module assembles the root app: the top-level commands, then the groups, in the order `--help` lists
them.
"""

from __future__ import annotations

import typer

from .audit import audit_cmd
from .build import build_app
from .cases import cases_app
from .common import console, err_console
from .db import db_app
from .export import export_app
from .hotline import hotline_app
from .imports import imports_app, ingest
from .inspections import inspections_app
from .ops import ops_app
from .org import org_app
from .people import people_app
from .ratings import ratings_app
from .report import report_app
from .server import demo, serve
from .uploads import uploads_app
from .user import user_app
from .zones import lookup, validate, zones_app

__all__ = ["app", "console", "err_console"]

app = typer.Typer(help="gridsvc: H3 unit grids and 门前三包 frontage duty zones on PostGIS.", no_args_is_help=True)
app.command()(ingest)
app.command()(lookup)
app.command()(validate)
app.command("audit")(audit_cmd)
app.command()(serve)
app.command()(demo)
app.add_typer(db_app, name="db")
app.add_typer(build_app, name="build")
app.add_typer(export_app, name="export")
app.add_typer(zones_app, name="zones")
app.add_typer(people_app, name="people")
app.add_typer(user_app, name="user")
app.add_typer(uploads_app, name="uploads")
app.add_typer(imports_app, name="imports")
app.add_typer(cases_app, name="cases")
app.add_typer(ops_app, name="ops")
app.add_typer(ratings_app, name="ratings")
app.add_typer(org_app, name="org")
app.add_typer(inspections_app, name="inspections")
app.add_typer(hotline_app, name="hotline")
app.add_typer(report_app, name="report")
