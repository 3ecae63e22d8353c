"""How long the S3 checks take to match a hostile bucket-policy wildcard.

    .venv/bin/python bench/policy_glob.py [--max-stars 8]

A bucket policy's ``Resource`` is written by whoever can edit a bucket in a scanned account.
Prints, for ``a*a*...*b`` against a run of ``a``, the time of the segment matcher the checks use
(``findings.checks.s3._glob``) beside a backtracking regex of ``.*`` (the matcher it replaced),
which grows exponentially with the number of stars.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from common import ROOT


def backtracking_glob(pattern: str, text: str) -> bool:
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def timed(function, pattern: str, text: str) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = function(pattern, text)
    return time.perf_counter() - started, answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-stars", type=int, default=8, help="largest pattern for the regex")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from findings.checks.s3 import _glob

    text = "a" * 40
    print(f"pattern a*...*b against {len(text)} 'a' (no match):")
    print(f"  {'stars':>5}  {'segments (s)':>12}  {'regex (s)':>10}")
    for stars in range(6, args.max_stars + 1):
        pattern = "a*" * stars + "b"
        ours, answer = timed(_glob, pattern, text)
        theirs, expected = timed(backtracking_glob, pattern, text)
        assert answer == expected
        print(f"  {stars:5d}  {ours:12.6f}  {theirs:10.3f}")
    for stars, length in ((200, 5000), (1000, 100_000)):
        pattern = "a*" * stars + "b"
        ours, answer = timed(_glob, pattern, "a" * length)
        assert answer is False
        print(f"  {stars:5d} stars against {length} characters, segments only: {ours:.6f} s")
    print(f"command: {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
