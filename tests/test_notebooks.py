"""The notebooks in notebooks/ run end to end on real data (no database) and show what they promise.

They are stored without outputs; each run writes an executed copy to test-artifacts/notebooks/.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from support import ARTIFACTS

from gridsvc.settings import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
OUT = ARTIFACTS / "notebooks"
TABLE, IMAGE = "table", "image"
# tag of a cell -> what its outputs must hold
EXPECTED = {
    "district_zones_and_coverage.ipynb": {
        "counts-by-kind": {TABLE}, "street-coverage": {TABLE, IMAGE}, "unassigned": {TABLE}, "map": {IMAGE},
        "sanity": {"OK:"}},
    "officer_workload.ipynb": {
        "cells": {TABLE}, "beats": {TABLE}, "histogram": {IMAGE}, "top-officers": {TABLE}, "map": {IMAGE},
        "sanity": {"OK:"}},
}
MAX_SECONDS_PER_CELL = 120


def _kinds(cell) -> set[str]:
    """What a cell's outputs contain: non-empty tables, images, and its printed text."""
    found: set[str] = set()
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            found.add(out["text"])
        data = out.get("data", {})
        html = data.get("text/html", "")
        if "<table" in html and "<tbody>" in html and "<td>" in html:
            found.add(TABLE)
        if "image/png" in data:
            png = base64.b64decode(data["image/png"])
            from PIL import Image

            with Image.open(io.BytesIO(png)) as im:
                if im.width >= 300 and im.height >= 200 and len(im.getcolors(1 << 20) or range(1000)) > 8:
                    found.add(IMAGE)
    return found


def test_notebooks_are_stored_without_outputs():
    assert set(EXPECTED) <= {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    for name in EXPECTED:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), f"{name}: clear outputs"
        assert any(c.cell_type == "markdown" for c in nb.cells)
        tags = {t for c in code for t in c.metadata.get("tags", [])}
        assert set(EXPECTED[name]) <= tags, f"{name}: cells tagged {sorted(set(EXPECTED[name]) - tags)} missing"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_and_shows_its_results(name, monkeypatch):
    # the kernel is this interpreter (jupyter_client maps the spec's "python" to sys.executable; PATH for tools)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=MAX_SECONDS_PER_CELL, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()  # raises CellExecutionError naming the cell on any error
    finally:
        OUT.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, OUT / name)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    assert not errors
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            want = EXPECTED[name].get(tag, set())
            found = _kinds(cell)
            for item in want:
                if item in (TABLE, IMAGE):
                    assert item in found, f"{name} [{tag}]: no {item} in the outputs"
                else:
                    assert any(isinstance(f, str) and item in f for f in found), f"{name} [{tag}]: {item!r} not printed"
