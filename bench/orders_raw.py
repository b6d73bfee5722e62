"""The ceiling for order ingestion: Waypoint's own rows inserted with plain SQL through psycopg.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench .venv/bin/python -m bench.orders_raw

Copies an order that the bulk API stored (the newest one, unless `--template` names another)
together with its two history events, and inserts 1,000 such orders with their 2,000 events per
transaction: same database, tables and indexes, one `INSERT ... SELECT` per table, no HTTP, no
validation, no ORM and no outbox. `bench.orders_ingest` prints this figure beside its own; the
gap between the two is what Waypoint does per order on top of storing it.
"""

import argparse
import datetime as dt
import os
import secrets
import time
import uuid
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column.name for column in cursor.description if column.name != "id"]


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _insert(cursor, table: str, columns: list[str], rows: list[dict]) -> list[int]:
    names = ", ".join(columns)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM jsonb_populate_recordset(NULL::{table}, %s) RETURNING id",
        [Jsonb([{c: _plain(row[c]) for c in columns} for row in rows])],
    )
    return [row["id"] for row in cursor.fetchall()]


def raw_ceiling(database_url: str, *, batches: int, template_id: int | None = None) -> float:
    """Orders per second for `batches` transactions of 1,000 orders and 2,000 history events."""
    with psycopg.connect(database_url, row_factory=dict_row) as connection, connection.cursor() as cursor:
        if template_id is None:
            cursor.execute("SELECT max(id) AS id FROM orders_order")
            template_id = cursor.fetchone()["id"]
        cursor.execute("SELECT * FROM orders_order WHERE id = %s", [template_id])
        order = cursor.fetchone()
        if order is None:
            raise SystemExit("No order to copy: run bench.orders_ingest against this database first.")
        cursor.execute("SELECT * FROM orders_orderevent WHERE order_id = %s ORDER BY id", [template_id])
        history = cursor.fetchall()
        order_columns, event_columns = _columns(cursor, "orders_order"), _columns(cursor, "orders_orderevent")
        connection.commit()
        run = uuid.uuid4().hex[:6]
        started = time.perf_counter()
        for batch in range(batches):
            now = dt.datetime.now(dt.UTC)
            orders = [
                {
                    **order,
                    "merchant_reference": f"{run}-R{batch:03d}-{i:04d}",
                    "tracking_token": secrets.token_urlsafe(18),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1000)
            ]
            ids = _insert(cursor, "orders_order", order_columns, orders)
            events = [{**event, "order_id": order_id, "at": now} for order_id in ids for event in history]
            _insert(cursor, "orders_orderevent", event_columns, events)
            connection.commit()
        return batches * 1000 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=10, help="1,000-order transactions")
    parser.add_argument("--template", type=int, help="the order to copy (default: the newest)")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL") or ""
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database for this benchmark.")
    per_second = raw_ceiling(database_url, batches=args.batches, template_id=args.template)
    print(f"raw Postgres: {args.batches} x 1000 orders + 2000 history events -> {per_second:,.0f} orders/s")


if __name__ == "__main__":
    main()
