"""The notebooks under notebooks/ run top to bottom (their outputs are not committed)."""

import os

import pytest

from conftest import REPOSITORY

NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, demo, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("BEHAVERT_DEMO", str(demo))
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    # What the notebook printed, for the log (the Dask notebook's throughput).
    for cell in book.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                print(f"{path.name}: {output['text'].strip()}")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4, os.listdir(REPOSITORY / "notebooks")
