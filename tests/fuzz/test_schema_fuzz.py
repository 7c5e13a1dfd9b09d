"""Bounded schemathesis fuzzing of the whole OpenAPI schema (GET /api/v1/schema) against
the throwaway Placemap of conftest.py, as a user and as a moderator: examples, coverage,
fuzzing and stateful phases, fixed seed, deterministic generation.

A run fails on a 5xx other than a 503, on a response outside its documented schema or
content type, on an error that is not problem+json (hooks.py), and on an undocumented
status where the schema documents error codes. schemathesis.toml chooses the checks. The
failure message is schemathesis's report: each failing case with its reproduction curl.

Budget: the runs share about 2 minutes on a 2-core machine (docs/testing.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import BASE_DIR

pytestmark = pytest.mark.slow

SEED = 20261201
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Operations that end the token's life: fuzzed on their own, with their own users.
TOKEN_KILLERS = ("DELETE /api/v1/auth/token", "DELETE /api/v1/me")


def schemathesis(stack, *args: str, token: str, max_time: int, every_phase: bool = True) -> None:
    # max_time bounds the run (schemathesis stops generating when it is spent); the
    # timeout only catches a hung run.
    timeout = max_time + 30
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack.url}/api/v1/schema",
        "--header",
        f"Authorization: Token {token}",
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--generation-with-security-parameters",
        "false",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--max-time",
        str(max_time),
        *args,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(BASE_DIR)}
    report = stack.workdir / f"schemathesis-{token[:8]}.txt"
    with report.open("w") as out:
        try:
            returncode = subprocess.run(
                command,
                cwd=stack.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            returncode = None
    output = report.read_text(errors="replace")
    assert stack.server.alive(), f"the server died:\n{output}\n{stack.server.log()[-5000:]}"
    if returncode != 0:
        verdict = f"ran over {timeout}s" if returncode is None else f"exit {returncode}"
        pytest.fail(
            f"schemathesis found failures ({verdict}):\n{output}\n"
            f"--- server log (tail) ---\n{stack.server.log()[-8000:]}",
            pytrace=False,
        )
    print(output)  # the run's summary, for -rP and the CI log
    # A run that tested nothing would pass too: make sure every phase ran.
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful") if every_phase else ():
        assert f"{phase} (in " in output, f"the {phase} phase did not run:\n{output}"


def test_the_whole_schema_survives_fuzzing_as_a_user(fuzz_stack):
    schemathesis(
        fuzz_stack,
        "--max-examples",
        "30",
        *(arg for name in TOKEN_KILLERS for arg in ("--exclude-name", name)),
        token=fuzz_stack.tokens["fuzzuser"],
        max_time=50,
    )


def test_the_whole_schema_survives_fuzzing_as_a_moderator(fuzz_stack):
    schemathesis(
        fuzz_stack,
        "--max-examples",
        "30",
        *(arg for name in TOKEN_KILLERS for arg in ("--exclude-name", name)),
        token=fuzz_stack.tokens["moderator"],
        max_time=50,
    )


@pytest.mark.parametrize(
    ("operation", "account"),
    [("DELETE /api/v1/auth/token", "revoker"), ("DELETE /api/v1/me", "eraser")],
)
def test_revoking_and_erasing_survive_fuzzing(fuzz_stack, operation, account):
    # The first case revokes the token (or erases its user); the rest must still answer
    # 401 problem+json, not fail.
    schemathesis(
        fuzz_stack,
        "--max-examples",
        "10",
        "--include-name",
        operation,
        token=fuzz_stack.tokens[account],
        max_time=10,
        every_phase=False,
    )
