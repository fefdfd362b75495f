"""The yardstick: the least a Flask app can do per request on the same stack, one row into PostgreSQL.

    BENCH_DATABASE_URL=postgresql://… gunicorn -c gunicorn.conf.py bench.trivial_app:app

It parses the JSON body, inserts one row (SQLAlchemy Core, the app's pool settings) in its own
committed transaction and answers 201 with the new id. The benchmark serves it with the same gunicorn
settings as the registry, so the ratio between the two is what the registry's own work costs: token
check, rules, BRP lookup, pseudonym, encryption, audit chain, unique constraint, idempotency.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, create_engine, insert

metadata = MetaData()
rows = Table("bench_trivial", metadata,
             Column("id", BigInteger, primary_key=True, autoincrement=True),
             Column("key", String(64), unique=True, nullable=False),
             Column("body", Text, nullable=False))


def _url() -> str:
    url = os.environ["BENCH_DATABASE_URL"]
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


def create_app() -> Flask:
    engine = create_engine(_url(), pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5)
    app = Flask(__name__)

    @app.post("/insert")
    def insert_row() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="a JSON object, please"), 400
        key = request.headers.get("Idempotency-Key") or str(uuid.uuid4())
        with engine.begin() as connection:
            new_id = connection.execute(insert(rows).values(key=key, body=request.get_data(as_text=True))
                                        .returning(rows.c.id)).scalar_one()
        return jsonify(id=new_id), 201

    @app.get("/healthz")
    def health() -> Any:
        return jsonify(status="ok")

    return app


def create_table(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    engine.dispose()


app = create_app() if "BENCH_DATABASE_URL" in os.environ else None
