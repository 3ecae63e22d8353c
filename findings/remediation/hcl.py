"""Writing Terraform (HCL) from values: cloud data is always a quoted, escaped string.

A resource's name or tag may hold any character. Pasted into a Terraform file, a quote ends
the string, a newline ends a comment, and ``${...}`` or ``%{...}`` is evaluated. Every value
from the cloud therefore goes through :func:`string` (inside a string literal), :func:`label`
(a block label) or :func:`comment` (a ``#`` line); only the product's own expressions are
written as :class:`Raw` text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string(value: str) -> str:
    """``value`` as an HCL quoted string literal that evaluates to exactly ``value``."""
    out: list[str] = []
    for char in str(value):
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            # Control and invisible characters: spelled as escapes, so what is shown is what
            # Terraform reads (no bidi tricks hiding text, no line separators).
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    text = "".join(out)
    # Template sequences: "$${" and "%%{" are HCL's literal "${" and "%{".
    return '"' + text.replace("${", "$${").replace("%{", "%%{") + '"'


_PLAIN_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def label(prefix: str, *parts: str) -> str:
    """A block label (identifier): the product's ``prefix`` and the resource's ids.

    AWS ids, account ids and most bucket names map one to one (``-`` becomes ``_``); anything
    else is reduced to safe characters and suffixed with a digest of the original, so two
    different resources never get the same label.
    """
    pieces = [prefix]
    for part in parts:
        if _PLAIN_ID.match(part):
            pieces.append(part.replace("-", "_"))
        else:
            safe = re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")[:40]
            digest = hashlib.sha256(part.encode()).hexdigest()[:8]
            pieces.append(f"{safe}_{digest}" if safe else f"x{digest}")
    text = "_".join(piece for piece in pieces if piece)
    if not re.match(r"[a-z_]", text):
        text = "r_" + text
    return text


def comment_text(value: str, limit: int = 120) -> str:
    """``value`` made safe for one ``#`` comment line: control and line-breaking characters
    (which would end the comment and start code) become ``?``."""
    cleaned = "".join(
        "?" if unicodedata.category(char)[0] in ("C", "Z") and char != " " else char
        for char in str(value)
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def comment(text: str) -> str:
    """``# text`` lines; each line of ``text`` (the product's own) is sanitised again."""
    return "\n".join(f"# {comment_text(line, 400)}".rstrip() for line in text.split("\n"))


@dataclass(frozen=True)
class Raw:
    """An expression the product wrote itself (``var.admin_cidr``, ``jsonencode(...)``).

    Never built from cloud data."""

    text: str


@dataclass
class Attr:
    """``name = value``. ``fix`` marks the value a fix sets (as opposed to one kept as the scan
    saw it): when two fixes of one resource are merged, the fixed value wins."""

    name: str
    value: Any
    fix: bool = False


@dataclass
class Block:
    """``type "label" ... { body }``; body items are :class:`Attr`, :class:`Block` or
    :class:`Comment`."""

    type: str
    labels: tuple[str, ...] = ()
    body: list[Any] = field(default_factory=list)


@dataclass
class Comment:
    text: str


def value(item: Any, indent: int = 0) -> str:
    """An HCL expression for a Python value (strings escaped, dict keys quoted)."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(item, Raw):
        return item.text
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        return string(item)
    if isinstance(item, dict):
        if not item:
            return "{}"
        lines = [f"{pad}{string(str(key))} = {value(val, indent + 1)}" for key, val in item.items()]
        return "{\n" + "\n".join(lines) + f"\n{end}}}"
    if isinstance(item, list | tuple):
        if not item:
            return "[]"
        if all(isinstance(x, str | int | float | bool) for x in item) and len(item) <= 4:
            return "[" + ", ".join(value(x) for x in item) + "]"
        lines = [f"{pad}{value(x, indent + 1)}," for x in item]
        return "[\n" + "\n".join(lines) + f"\n{end}]"
    raise TypeError(f"no HCL form for {type(item).__name__}")


def render_block(block: Block, indent: int = 0) -> str:
    pad = "  " * indent
    head = " ".join([block.type, *(string(lab) for lab in block.labels)])
    lines = [f"{pad}{head} {{"]
    # Like ``terraform fmt``: "=" aligned within each run of consecutive arguments.
    widths: list[int] = []
    run: list[int] = []
    for item in [*block.body, None]:
        if isinstance(item, Attr):
            run.append(len(item.name))
            continue
        widths += [max(run)] * len(run) if run else []
        run = []
        if item is not None:
            widths.append(0)
    for item, width in zip(block.body, widths, strict=True):
        if isinstance(item, Attr):
            lines.append(f"{pad}  {item.name.ljust(width)} = {value(item.value, indent + 1)}")
        elif isinstance(item, Comment):
            lines.extend(f"{pad}  {line}" for line in comment(item.text).split("\n"))
        else:
            lines.append("")
            lines.append(render_block(item, indent + 1))
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def render(blocks: Iterable[Block | Comment]) -> str:
    parts = [
        comment(item.text) if isinstance(item, Comment) else render_block(item) for item in blocks
    ]
    return "\n\n".join(parts) + "\n"
