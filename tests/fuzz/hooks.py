"""Schemathesis checks of the house rules the built-in checks do not cover (loaded by
the CLI through SCHEMATHESIS_HOOKS=tests.fuzz.hooks; see test_schema_fuzz.py)."""

import schemathesis

PROBLEM_JSON = "application/problem+json"


def _content_type(response) -> str:
    values = response.headers.get("content-type") or [""]
    value = values[0] if isinstance(values, list) else values
    return value.split(";")[0].strip().lower()


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    """Every API error is RFC 9457 problem+json carrying its status and the request id."""
    if response.status_code < 400:
        return None
    content_type = _content_type(response)
    if content_type != PROBLEM_JSON:
        raise AssertionError(
            f"{response.status_code} answered as {content_type or 'no content type'}, "
            f"not {PROBLEM_JSON}"
        )
    body = response.json()
    missing = [
        key for key in ("type", "title", "status", "detail", "request_id") if key not in body
    ]
    if missing or body.get("status") != response.status_code:
        raise AssertionError(f"problem+json body lacks {missing or 'the right status'}: {body}")
    return None


@schemathesis.check
def unavailable_says_when_to_retry(ctx, response, case):
    """A deliberate 503 (a dependency down) carries Retry-After."""
    if response.status_code == 503 and not response.headers.get("retry-after"):
        raise AssertionError("503 without Retry-After")
    return None
