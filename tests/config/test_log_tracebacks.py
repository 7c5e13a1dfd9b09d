"""A traceback in a log line shows no local variables: rendering them ran their repr
(a QuerySet's queries the database) under the log handler's lock, which deadlocked the
web process when the database breaker opened meanwhile (it logs under its own lock;
found by the fault drills), and printed secrets the redaction never sees."""

import io
import logging

import pytest

from config.logging import build_formatter


class _Sensitive:
    reprs = 0

    def __repr__(self) -> str:
        type(self).reprs += 1
        return "<ran a query>"


def _log_a_failure(log_format: str) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(build_formatter(log_format))
    logger = logging.getLogger(f"placemap.test.tracebacks.{log_format}")
    logger.propagate = False
    logger.addHandler(handler)
    # A local the traceback must not show (built, so the source line does not hold it).
    password = "-".join(["hunter2", "in", "a", "local"])  # noqa: F841
    queryset = _Sensitive()  # noqa: F841
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_it_refuses_to_render_local_variables_in_a_logged_traceback(log_format):
    _Sensitive.reprs = 0
    line = _log_a_failure(log_format)

    assert "the database went away" in line
    assert "hunter2-in-a-local" not in line
    assert _Sensitive.reprs == 0
