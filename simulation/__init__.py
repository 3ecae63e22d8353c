"""The simulated AWS account: a moto server behind a small front door, seeded with a story.

A demo and test part, not a product part: only the demo command, the tests and the
benchmarks import it; production code never does (tests/test_import_rules.py holds that).
"""
