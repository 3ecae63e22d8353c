"""Schemathesis against the app's own schema, served on loopback: no 5xx, every answer as
documented (status code, content type, body).

Each operation gets a bounded number of generated requests, valid (positive) and invalid
(negative), as an admin (who may do everything, so the writes really run) and as a viewer (who
is refused every write). Scans are not dispatched: starting one must not reach out to AWS.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cspm import services as token_services

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = {"admin": 12, "viewer": 4}


@pytest.fixture
def fuzzable(settings, monkeypatch, estate):
    """The estate, with throttles out of the way and scans kept from running."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "100000/minute", "auth_failure": "100000/minute"},
    }
    monkeypatch.setattr("findings.services.scans._dispatch", lambda *args, **kwargs: None)
    return estate


def _fuzz(base_url: str, user, mode: GenerationMode, examples: int) -> list[str]:
    _, raw = token_services.create_api_token(actor=user, user=user, name="fuzzing")
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/v1/schema/?format=json", headers=headers, timeout=30
    )
    problems: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            problems.append(f"{operation.label} ({mode.value}): {exc}")
    return problems


# The live server reads committed rows; the roles (from a data migration) come back after the
# flush of a transactional test only with serialized_rollback.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("persona", ["admin", "viewer"])
def test_every_generated_request_is_answered_as_the_schema_says(
    live_server, fuzzable, persona, admin_user, viewer
):
    user = {"admin": admin_user, "viewer": viewer}[persona]
    problems = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        problems += _fuzz(live_server.url, user, mode, EXAMPLES[persona])
    assert not problems, "\n\n".join(problems)
