"""schemathesis against the app's own OpenAPI: no 5xx, every error in the one shape.

Each operation of ``/openapi.json`` gets generated requests (as the admin and as the public) on
each backend; schemathesis's own checks (no server error, documented status codes and content
types, responses matching their schemas) run with ours: every error body has the one shape.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import World


def error_has_the_one_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type") or [""]
    media = str(content_type[0] if isinstance(content_type, list) else content_type)
    if media.startswith("text/html"):
        # the warning page's form answers browsers with pages; its route documents them
        assert case.path.startswith("/blocked"), case.path
        return None
    body = response.json()
    if media.startswith("application/taxii+json"):  # TAXII's own error message
        assert case.path.startswith("/taxii2/"), case.path
        assert set(body) == {"title", "description", "http_status"}, body
        assert body["http_status"] == str(response.status_code)
        return None
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return None


def _fuzz(world: World, headers: dict[str, str], examples: int) -> int:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(
                headers=headers,
                additional_checks=[error_has_the_one_shape],
                # a schema-valid string is not always a valid indicator: that is a documented 422
                excluded_checks=[positive_data_acceptance],
            )

        run()
    return operations


def test_api_as_admin(world: World) -> None:
    assert _fuzz(world, world.auth(world.admin), examples=20) >= 10


def test_api_as_public(world: World) -> None:
    assert _fuzz(world, {}, examples=8) >= 10
