"""Zone tag rules: parsing cost against the rule's length, on adversarial rules.

    .venv/bin/python bench/zone_rules.py [--repeat 5] [--old-up-to 4000]

A security review found that `a`, 24,000 spaces and `!` cost 11 s of CPU on the zone preview
(which any viewer may call): the old parser tried four backtracking regular expressions in turn.
The parser is now one left-to-right pass. This prints, for growing lengths, the median time to
parse (or refuse) a few adversarial shapes with the scanner itself, past the length limit that
``parse_tag_rule`` enforces first, so the figures show the growth: linear means the time per
character stays flat. For comparison, it times the old regular expressions (copied below) on
the first shape up to ``--old-up-to`` characters. Pure Python, no database.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time

from common import ROOT, median, reproduce

sys.path.insert(0, str(ROOT))

from acceptances.zones import MAX_TAG_RULE_LENGTH, _parse, _Scanner, parse_tag_rule

SHAPES = {
    "a + spaces + !": lambda n: "a" + " " * n + "!",
    "key of n words + =": lambda n: "w " * (n // 2) + "= x",
    "in ( + n commas": lambda n: "K in (" + "," * n,
    'quoted key of n \\"': lambda n: '"' + '\\"' * (n // 2),
    "value of n parens": lambda n: "K = " + "(" * n,
}

# The parser before the fix, for comparison.
_OLD_KEY = r"[\w .:/=+\-@]+?"
_OLD = [
    re.compile(rf"^\s*(?P<key>{_OLD_KEY})\s+in\s*\((?P<values>.*)\)\s*$", re.IGNORECASE),
    re.compile(rf"^\s*(?P<key>{_OLD_KEY})\s*!=\s*(?P<value>.*?)\s*$"),
    re.compile(rf"^\s*(?P<key>{_OLD_KEY})\s*=\s*(?P<value>.*?)\s*$"),
    re.compile(rf"^\s*(?P<key>{_OLD_KEY})\s*$"),
]


def _time(function, text: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.suppress(ValueError):  # a refusal is a result too
            function(text)
        runs.append(time.perf_counter() - start)
    return median(runs)


def _old_parse(text: str) -> None:
    for pattern in _OLD:
        if pattern.match(text):
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old-up-to", type=int, default=4000)
    args = parser.parse_args()

    def scan(text: str) -> None:
        _parse(_Scanner(text))

    lengths = [1_000, 10_000, 100_000, 1_000_000]
    print(f"Scanner, median of {args.repeat} runs (µs per 1,000 characters in brackets):")
    print(f"{'shape':24}" + "".join(f"{n:>20,}" for n in lengths))
    for name, make in SHAPES.items():
        cells = []
        for n in lengths:
            text = make(n)
            seconds = _time(scan, text, args.repeat)
            cells.append(f"{seconds * 1000:9.2f} ms [{seconds * 1e9 / len(text):5.1f}]")
        print(f"{name:24}" + "".join(f"{c:>20}" for c in cells))

    text = SHAPES["a + spaces + !"](24_000)
    seconds = _time(parse_tag_rule, text, args.repeat)
    print(
        f"\nparse_tag_rule on the reported rule (24,002 characters): refused in "
        f"{seconds * 1e6:.1f} µs (the limit is {MAX_TAG_RULE_LENGTH} characters)"
    )

    print("\nThe old regular expressions on 'a + spaces + !' (they grow with the square or worse):")
    n = 500
    while n <= args.old_up_to:
        seconds = _time(_old_parse, SHAPES["a + spaces + !"](n), 1)
        print(f"{n:>8,} characters: {seconds * 1000:10.1f} ms")
        n *= 2
    reproduce("zone_rules.py", f"--repeat {args.repeat} --old-up-to {args.old_up_to}")


if __name__ == "__main__":
    main()
