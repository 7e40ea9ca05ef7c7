"""`python -m gridsvc.cli`: the same command as `gridsvc`."""

from . import app

app()
