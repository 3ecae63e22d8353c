"""The register as files: CSV, JSON, PDF, and a bundle of the three with a manifest of digests.

Every file of one export comes from one ``Register`` (one rebuild), so they agree. The bundle
is a zip holding ``register.csv``, ``register.json``, ``register.pdf`` and ``manifest.json``:
the register's date, when it was generated, the app's version and commit (when known) and the
SHA-256 digest and size of each file, so an auditor can show the files were not altered.

The PDF uses fpdf2's core fonts (Helvetica), which hold Latin-1 only. Rather than ship a font
file, a character outside Latin-1 is replaced visibly: typographic quotes, dashes and the
ellipsis by their plain forms, anything else by ``[U+XXXX]``, and the first page says so. The
CSV and JSON keep every character exactly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import tomllib
import zipfile
from typing import Any

from django.conf import settings
from django.utils import timezone

from acceptances.register import (
    EXPORT_FIELDS,
    NOT_RECORDED,
    Register,
    export_row,
    show,
    text_row,
)
from cspm.csvcells import safe_csv_row

FORMATS = ("csv", "json", "pdf", "bundle")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
    "bundle": "application/zip",
}
EXTENSIONS = {"csv": "csv", "json": "json", "pdf": "pdf", "bundle": "zip"}


def app_version() -> dict[str, str | None]:
    """The app's version (pyproject.toml) and commit: ``CSPM_COMMIT`` in the environment (set
    by a deployment), else the checkout's HEAD when git can read it; None when unknown."""
    version = None
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as handle:
            version = tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    commit = os.environ.get("CSPM_COMMIT") or None
    if commit is None:
        try:
            done = subprocess.run(
                ["git", "rev-parse", "HEAD"],  # git from PATH, read-only
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            commit = (done.stdout.strip() or None) if done.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {"version": version, "commit": commit}


def filename(register: Register, fmt: str) -> str:
    stamp = timezone.localtime(register.at).strftime("%Y%m%d-%H%M")
    return f"risk-register-{stamp}.{EXTENSIONS[fmt]}"


# --- CSV and JSON ------------------------------------------------------------------------------


def to_csv(register: Register) -> bytes:
    """One row per acceptance, in words; cells a spreadsheet would run are neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for entry in register.entries:
        writer.writerow(safe_csv_row(text_row(entry)))
    return buffer.getvalue().encode("utf-8")


def _counts_json(register: Register) -> dict[str, list[dict[str, Any]]]:
    return {
        kind: [{"key": key, "label": label, "count": n} for key, label, n in rows]
        for kind, rows in register.counts().items()
    }


def to_json(register: Register) -> bytes:
    """The register's date, its counts and every acceptance with exact values."""
    document = {
        "at": register.at.isoformat(),
        "generated_at": register.generated_at.isoformat(),
        "count": len(register.entries),
        "counts": _counts_json(register),
        "acceptances": [export_row(entry) for entry in register.entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# --- PDF ------------------------------------------------------------------------------------

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2212": "-",
        "\u00d7": "x",
    }
)


def latin1(text: Any) -> str:
    """``text`` as the PDF's core font can show it (see the module's docstring)."""
    text = str(text)
    if text.isascii() and text.isprintable():
        return text
    text = text.translate(_PLAIN)
    return "".join(
        char if " " <= char < "\x7f" or "\xa0" <= char <= "\xff" else _mark(char) for char in text
    )


def _mark(char: str) -> str:
    if char in "\t\r\n":
        return " "  # every text of the PDF is one line
    if ord(char) < 32 or "\x7f" <= char < "\xa0":
        return ""
    return f"[U+{ord(char):04X}]"


PDF_COLUMNS = [
    # (heading, row key, width in mm on landscape A4)
    ("Control", "control", 16),
    ("Scope", "scope", 52),
    ("State", "state", 38),
    ("Rating", "residual_rating", 18),
    ("Owner", "owner", 30),
    ("Signed off", "owner_signed_off_at", 32),
    ("Approved", "approved", 40),
    ("Expiry", "expires_at", 32),
    ("Covered", "covered", 15),
]


def _fit(pdf: Any, text: str, width: float) -> str:
    """``text`` cut with "..." to fit a cell of ``width`` mm."""
    room = width - 2
    full = pdf.get_string_width(text)
    if full <= room:
        return text
    # Cut where the average character width says, then a character at a time: a long
    # justification costs a few width measures, not one per character.
    keep = max(0, int(len(text) * (room - pdf.get_string_width("...")) / full))
    while keep and pdf.get_string_width(text[:keep] + "...") > room:
        keep -= 1
    return text[:keep] + "..."


def to_pdf(register: Register) -> bytes:
    """First page: the date and the counts by state, rating and zone; then every acceptance,
    one line each with its justification beneath."""
    from fpdf import FPDF

    at = show(register.at)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    # Page breaks of the listing are the writer's own (see below).
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(latin1(f"Risk register as of {at}"))
    pdf.set_creator("CSPM risk-treatment manager")

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, latin1(f"Risk register as of {at}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        latin1(
            f"{len(register.entries)} acceptances. Generated {show(register.generated_at)}, "
            "rebuilt from the acceptances' append-only history."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    titles = {"state": "By state", "rating": "By residual rating", "zone": "By zone"}
    top = pdf.get_y()
    left = pdf.l_margin
    for index, (kind, rows) in enumerate(register.counts().items()):
        x = left + index * 90
        pdf.set_xy(x, top)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(85, 8, titles[kind], new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for _key, label, count in rows or [("", "none", 0)]:
            pdf.set_x(x)
            pdf.cell(70, 6, _fit(pdf, latin1(label), 70), border="B")
            pdf.cell(15, 6, str(count), border="B", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 60))
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(
        0,
        5,
        latin1(
            "An acceptance whose end had passed by this date reads expired from its end, even "
            f"when the expiry job recorded it later. \u201c{NOT_RECORDED}\u201d: the history "
            "written before the field existed does not hold it. Characters this file's font "
            "cannot show are written as [U+XXXX]; the CSV and JSON files keep them exactly."
        ),
    )

    # The listing writes text at positions (``FPDF.text``): ten times cheaper than a cell,
    # which matters at ten thousand acceptances.
    bottom = pdf.h - 12
    y = bottom
    for entry in register.entries:
        if y + 10 > bottom:
            pdf.add_page()
            y = _table_header(pdf)
        row = text_row(entry)
        approved = (
            f"{row['approved_by']} {row['approved_at']}".strip() if row["approved_by"] else ""
        )
        cells = {**row, "approved": approved}
        pdf.set_font("Helvetica", "", 8)
        x = pdf.l_margin
        for _heading, key, width in PDF_COLUMNS:
            pdf.text(x + 1, y + 3.5, _fit(pdf, latin1(cells[key]), width))
            x += width
        pdf.set_font("Helvetica", "", 7)
        pdf.set_text_color(90)
        summary = f"#{entry.pk} {row['control_title']}. {row['reason']}: {row['justification']}"
        pdf.text(pdf.l_margin + 1, y + 7.5, _fit(pdf, latin1(summary), pdf.epw))
        pdf.set_text_color(0)
        pdf.set_draw_color(200)
        pdf.line(pdf.l_margin, y + 9, pdf.l_margin + pdf.epw, y + 9)
        y += 9.5
    return bytes(pdf.output())


def _table_header(pdf: Any) -> float:
    """The column headings at the top of a listing page; the y where rows start."""
    pdf.set_font("Helvetica", "B", 8)
    y = pdf.t_margin
    x = pdf.l_margin
    for heading, _key, width in PDF_COLUMNS:
        pdf.text(x + 1, y + 4, heading)
        x += width
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, y + 5.5, pdf.l_margin + pdf.epw, y + 5.5)
    return y + 7


# --- The bundle -------------------------------------------------------------------------------


def manifest(register: Register, files: dict[str, bytes]) -> dict[str, Any]:
    """The bundle's manifest: the date, generation time, app version and each file's digest."""
    return {
        "at": register.at.isoformat(),
        "generated_at": register.generated_at.isoformat(),
        "acceptances": len(register.entries),
        "app": app_version(),
        "files": [
            {"name": name, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            for name, body in files.items()
        ],
    }


def to_bundle(register: Register) -> bytes:
    files = {
        "register.csv": to_csv(register),
        "register.json": to_json(register),
        "register.pdf": to_pdf(register),
    }
    document = manifest(register, files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
        archive.writestr("manifest.json", json.dumps(document, indent=1) + "\n")
    return buffer.getvalue()


WRITERS = {"csv": to_csv, "json": to_json, "pdf": to_pdf, "bundle": to_bundle}


def render(register: Register, fmt: str) -> bytes:
    return WRITERS[fmt](register)
