# ruff: noqa: S608 - only table and column names from model metadata are interpolated; every
# value travels through COPY or bound parameters.
"""Bulk writes that scale: COPY on PostgreSQL, the ORM's bulk operations elsewhere.

The Django ORM's ``bulk_create`` builds one big INSERT per batch; on PostgreSQL a binary-safe
COPY is about ten times faster, which is what lets a scan write a million findings quickly.
Rows are plain tuples in the order of ``columns`` (attribute names such as ``resource_id``);
JSON columns are passed as already-serialized text, since ingest serializes evidence once to
digest it anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

BATCH = 5000


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _orm_objects(
    model: type[models.Model], names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> list[models.Model]:
    fields = _columns(model, names)
    json_positions = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    objects = []
    for row in rows:
        values = list(row)
        for i in json_positions:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        objects.append(model(**dict(zip(names, values, strict=True))))
    return objects


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert rows that cannot conflict (the caller knows they are new); return the count."""
    if not _is_postgres():
        objects = _orm_objects(model, names, rows)
        model.objects.bulk_create(objects, batch_size=BATCH)
        return len(objects)
    table = model._meta.db_table
    columns = ", ".join(f.column for f in _columns(model, names))
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _stage(
    cursor: Any, table: str, staging: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """COPY ``rows`` into a temporary table shaped like ``columns`` of ``table``.

    A typed copy of just these columns, gone at the end of the transaction (callers drop it
    sooner, so that a second call in the same transaction can create it again).
    """
    cursor.execute(
        f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
    )
    with cursor.cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def update_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Update rows by primary key; ``names[0]`` must be ``id``. Returns the count."""
    if names[0] != "id":
        raise ValueError("update_rows needs the primary key as its first column")
    rows = list(rows)
    if not rows:
        return 0
    if not _is_postgres():
        objects = _orm_objects(model, names, rows)
        model.objects.bulk_update(objects, list(names[1:]), batch_size=BATCH)
        return len(objects)
    table = model._meta.db_table
    fields = _columns(model, names)
    columns = [f.column for f in fields]
    staging = f"_staging_{table}"
    assignments = ", ".join(f"{c} = s.{c}" for c in columns[1:])
    with connection.cursor() as cursor:
        _stage(cursor, table, staging, columns, rows)
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {staging} AS s WHERE t.id = s.id"
        )
        cursor.execute(f"DROP TABLE {staging}")
    return len(rows)


def upsert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    conflict: Sequence[str],
    key: str,
    keep: Sequence[str] = (),
) -> dict[Any, int]:
    """Insert rows, updating the existing row on a conflict over ``conflict``.

    Columns named in ``keep`` are written for new rows only (an existing row keeps its value).
    Returns {value of ``key`` column: primary key} for every row written.
    """
    rows = list(rows)
    if not rows:
        return {}
    if not _is_postgres():
        objects = _orm_objects(model, names, rows)
        update = [n for n in names if n not in conflict and n not in keep]
        model.objects.bulk_create(
            objects,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=[n.removesuffix("_id") for n in conflict],
            update_fields=[n.removesuffix("_id") if n.endswith("_id") else n for n in update],
        )
        return {getattr(o, key): o.pk for o in objects}
    table = model._meta.db_table
    fields = _columns(model, names)
    columns = [f.column for f in fields]
    conflict_cols = [f.column for f in _columns(model, conflict)]
    keep_cols = {f.column for f in _columns(model, keep)}
    key_col = _columns(model, [key])[0].column
    staging = f"_staging_{table}"
    updates = ", ".join(
        f"{c} = EXCLUDED.{c}" for c in columns if c not in conflict_cols and c not in keep_cols
    )
    with connection.cursor() as cursor:
        _stage(cursor, table, staging, columns, rows)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM {staging} "
            f"ON CONFLICT ({', '.join(conflict_cols)}) DO UPDATE SET {updates} "
            f"RETURNING {key_col}, id"
        )
        written = dict(cursor.fetchall())
        cursor.execute(f"DROP TABLE {staging}")
    return written
