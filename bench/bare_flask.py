"""A second baseline for bench/ingest.py: a Flask route that reads the body and answers 200,
so the ratio can be read with and without the web framework's own cost."""

from __future__ import annotations

from flask import Flask, request

app = Flask("bare")


@app.post("/")
def bare() -> tuple[dict[str, str], int]:
    request.get_data()
    return {"status": "ok"}, 200
