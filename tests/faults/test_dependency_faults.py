"""Drills: each dependency of a running Placemap (PostgreSQL, Redis, S3) is paused
(SIGSTOP) and then killed and restarted under a small mixed load, and the test asserts
what docs/operations.md, places.md, photos.md and jobs.md promise:

- every answer arrives, and a 5xx is only a deliberate 503 with Retry-After and
  problem+json;
- search and viewport serve their stale copy while PostgreSQL is down;
- /ready answers 503 naming the failing check while it is down, 200 after;
- Placemap recovers without a restart (same server and worker processes);
- afterwards: every 201 place exists exactly once (clients retry failed submissions with
  their Idempotency-Key), no image stays `processing`, the outbox is drained, no
  notification is pending or mailed twice.
"""

import re
import time

import pytest

from tests.faults.harness import WARM_SEARCH, WARM_VIEWPORT, Answer, Load, call
from tests.support import wait_for

pytestmark = pytest.mark.slow

PROBLEM_JSON = "application/problem+json"
# An answer slower than this while a dependency is known to be down is a hang, not a
# fast failure (issue 11, items 16 and 18).
FAIL_FAST_SECONDS = 6.0
# How long a process may take to learn of an outage: BREAKER_FAIL_MAX concurrent calls
# each failing after its timeout (REDIS_TIMEOUT 2 s; connect_timeout 2 s for PostgreSQL).
LEARN_SECONDS = 3.0
# Bounded waits after recovery.
RECOVERY_SECONDS = 45
SETTLE_SECONDS = 45


class Findings:
    """Every broken promise of one drill, reported together at its end (one failed
    assertion must not hide what else broke)."""

    def __init__(self):
        self.items: list[str] = []

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.items.append(message)
        return ok

    def attempt(self, what: str, step) -> None:
        try:
            step()
        except AssertionError as exc:
            self.items.append(f"{what}: {exc}")

    def assert_none(self, stack) -> None:
        assert not self.items, (
            f"{len(self.items)} broken promise(s):\n\n"
            + "\n\n".join(self.items)
            + f"\n\n{stack.diagnostics()}"
        )


def contract_breaches(answers: list[Answer]) -> list[str]:
    breaches = []
    for answer in answers:
        content_type = answer.headers.get("content-type", "").split(";")[0]
        if answer.status is None:
            breaches.append(f"no answer: {answer.describe()}")
        elif answer.status >= 500 and answer.status != 503:
            breaches.append(f"a {answer.status}: {answer.describe()}")
        elif answer.status == 503 and not (
            answer.headers.get("retry-after") and content_type == PROBLEM_JSON
        ):
            breaches.append(f"503 without Retry-After or problem+json: {answer.describe()}")
    return breaches


def check_contract(findings: Findings, answers: list[Answer], *, during: str) -> None:
    breaches = contract_breaches(answers)
    findings.check(
        not breaches,
        f"{len(breaches)} answers {during} broke the contract:\n" + "\n".join(breaches[:15]),
    )


def once_known(answers: list[Answer], phases: list[float]) -> list[Answer]:
    """The answers sent LEARN_SECONDS or more into their phase of the outage. Each phase
    (paused, then killed) is a new outage to a process: the breaker that opened while the
    dependency was paused closes again when it resumes (its trial call succeeds before the
    kill), and docs/operations.md promises fast failure once BREAKER_FAIL_MAX calls have
    failed, each after its full timeout, not from the first instant."""
    known = []
    for answer in answers:
        phase = max((start for start in phases if start <= answer.started), default=None)
        if phase is not None and answer.started >= phase + LEARN_SECONDS:
            known.append(answer)
    return known


def check_fast(findings: Findings, answers: list[Answer], *, during: str, since: float) -> None:
    slow = [
        f"{a.describe()} (sent {a.started - since:.1f}s into the outage)"
        for a in answers
        if a.elapsed > FAIL_FAST_SECONDS
    ]
    findings.check(
        not slow,
        f"{len(slow)} of {len(answers)} answers {during} took over {FAIL_FAST_SECONDS}s:\n"
        + "\n".join(slow[:15]),
    )


# Reported, not required (docs/operations.md, Probes): its heartbeat and queue length
# are read from Redis, so it rightly reads `error` while Redis is down, and it never
# decides /ready's status. The drills check the required checks.
ADVISORY_CHECKS = {"worker"}


def check_ready_names(findings: Findings, stack, failing: str, *, during: str) -> None:
    status, body = stack.ready()
    checks = body.get("checks", {})
    ignored = {failing} | ADVISORY_CHECKS
    others = {name: c.get("status") for name, c in checks.items() if name not in ignored}
    findings.check(
        status == 503
        and checks.get(failing, {}).get("status") == "error"
        and all(value == "ok" for value in others.values()),
        f"/ready {during}: {status} {body} (want 503 naming {failing}, every other "
        f"required check ok)",
    )


def check_recovered(findings: Findings, stack, load: Load, server_pid: int, worker_pid: int):
    findings.attempt(
        "recovery",
        lambda: wait_for(
            lambda: stack.ready()[0] == 200,
            timeout=RECOVERY_SECONDS,
            what="/ready 200 after the dependency came back",
        ),
    )
    findings.check(
        stack.server.alive() and stack.server.process.pid == server_pid, "the server restarted"
    )
    findings.check(
        stack.worker.process.poll() is None and stack.worker.process.pid == worker_pid,
        f"the worker died (exit {stack.worker.process.poll()})",
    )
    for what, step in (("a submission", load.submit), ("an upload", load.upload)):
        findings.attempt(
            "recovery",
            lambda step=step, what=what: wait_for(
                lambda: step().status == 201,
                timeout=RECOVERY_SECONDS,
                what=f"{what} to succeed again",
            ),
        )


def check_nothing_lost(findings: Findings, stack, load: Load) -> None:
    # A client retries every submission that did not get its 201, with the same key; one
    # that did get it sees the same answer replayed.
    for key, answers in list(load.submissions.items()):
        had_201 = any(a.status == 201 for a in answers)
        again = load.submit(key)
        findings.check(
            again.status == 201
            and (not had_201 or again.headers.get("idempotent-replayed") == "true"),
            f"retrying key {key} (earlier: {[a.status for a in answers]}): {again.describe()}",
        )
    counts = dict(
        stack.sql(
            "SELECT name, count(*) FROM locations_location WHERE name LIKE 'Fault place %%' "
            "GROUP BY name"
        )
    )
    wrong = {
        key: counts.get(f"Fault place {key}", 0)
        for key in load.submissions
        if counts.get(f"Fault place {key}", 0) != 1
    }
    findings.check(not wrong, f"submissions stored other than exactly once (key: rows): {wrong}")
    stored = {str(row[0]) for row in stack.sql("SELECT id FROM locations_location")}
    lost = set(load.created) - stored
    findings.check(not lost, f"places answered 201 but not stored: {lost}")

    def unsettled() -> dict:
        queries = {
            "images processing": "SELECT id FROM media_store_image WHERE status = 'processing'",
            "outbox unsent": "SELECT id FROM jobs_outboxmessage WHERE sent_at IS NULL",
            "notifications pending": (
                "SELECT id FROM notifications_notification WHERE status = 'pending'"
            ),
        }
        return {name: len(rows) for name, query in queries.items() if (rows := stack.sql(query))}

    deadline = time.monotonic() + SETTLE_SECONDS
    while (left := unsettled()) and time.monotonic() < deadline:
        time.sleep(0.5)
    pending = stack.sql(
        "SELECT event, attempts, left(last_error, 300), now() - created_at "
        "FROM notifications_notification WHERE status = 'pending'"
    )
    findings.check(
        not left,
        f"still unsettled {SETTLE_SECONDS}s after recovery: {left}; pending notifications "
        f"(event, attempts, last error, age): {pending}",
    )
    sent = stack.sql(
        "SELECT count(*) FROM notifications_notification WHERE status = 'sent' "
        "AND channel = 'email'"
    )[0][0]
    mails = sum(
        len(re.findall(r"^Message-ID: ", path.read_text(errors="replace"), re.MULTILINE))
        for path in stack.mail_dir.iterdir()
    )
    findings.check(mails == sent, f"{mails} mails for {sent} sent email notifications")


def start_load(stack) -> tuple[Load, int, int]:
    load = Load(
        stack.url, user=stack.tokens["user"], moderator=stack.tokens["moderator"], png=stack.png
    ).start()
    time.sleep(1.5)
    return load, stack.server.process.pid, stack.worker.process.pid


def check_stale_reads(findings: Findings, stack, *, during: str) -> None:
    for path in (WARM_SEARCH, WARM_VIEWPORT):
        answer = call(stack.url, "GET", path, timeout=30)
        findings.check(
            answer.status == 200 and answer.headers.get("x-cache-stale") == "true",
            f"stale copy {during}: {answer.describe()}",
        )


def test_a_postgres_outage_serves_stale_reads_and_loses_nothing(healthy):
    stack, findings = healthy, Findings()
    load, server_pid, worker_pid = start_load(stack)
    try:
        # Paused: connections hang rather than fail.
        paused_at = time.monotonic()
        stack.postgres.pause()
        time.sleep(4)
        check_ready_names(findings, stack, "database", during="while PostgreSQL is paused")
        check_stale_reads(findings, stack, during="while PostgreSQL is paused")
        stack.postgres.resume()
        paused = load.since(paused_at)
        # Killed (a crash), and started again a while later.
        killed_at = time.monotonic()
        stack.postgres.kill()
        time.sleep(4)
        check_ready_names(findings, stack, "database", during="while PostgreSQL is dead")
        check_stale_reads(findings, stack, during="while PostgreSQL is dead")
        stack.postgres.start()
        dead = load.since(killed_at)
        phases = f"paused 0-{killed_at - paused_at:.0f}s, then dead"
        check_recovered(findings, stack, load, server_pid, worker_pid)
    finally:
        stack.postgres.ensure_running()
        load.stop()
    check_contract(findings, load.answers, during="the drill")
    outage = paused + dead
    reads = [a for a in outage if a.kind in ("search", "viewport") and a.status]
    findings.check(
        all(a.status == 200 for a in reads),
        "reads not served from the copy: "
        + "\n".join(a.describe() for a in reads if a.status != 200)[:3000],
    )
    # Once the outage is known, failing (or serving the copy) is quick.
    check_fast(
        findings,
        once_known(outage, [paused_at, killed_at]),
        during=f"the outage ({phases})",
        since=paused_at,
    )
    check_nothing_lost(findings, stack, load)
    findings.assert_none(stack)


def test_a_redis_outage_degrades_and_loses_nothing(healthy):
    stack, findings = healthy, Findings()
    load, server_pid, worker_pid = start_load(stack)
    try:
        paused_at = time.monotonic()
        stack.redis.pause()
        time.sleep(4)
        check_ready_names(findings, stack, "redis", during="while Redis is paused")
        stack.redis.resume()
        # A crash: everything in Redis (queue, cache, the live feed's groups) is gone.
        killed_at = time.monotonic()
        stack.redis.kill()
        time.sleep(4)
        check_ready_names(findings, stack, "redis", during="while Redis is dead")
        outage = load.since(paused_at)
        stack.redis.start()
        check_recovered(findings, stack, load, server_pid, worker_pid)
    finally:
        stack.redis.ensure_running()
        load.stop()
    check_contract(findings, load.answers, during="the drill")
    # Reads need only the database (throttles fail open, the copy is optional).
    reads = [a for a in outage if a.kind in ("search", "viewport")]
    findings.check(
        all(a.status == 200 for a in reads),
        "reads failed without Redis: "
        + "\n".join(a.describe() for a in reads if a.status != 200)[:3000],
    )
    check_fast(
        findings,
        once_known(outage, [paused_at, killed_at]),
        during=f"the outage (paused 0-{killed_at - paused_at:.0f}s, then dead)",
        since=paused_at,
    )
    check_nothing_lost(findings, stack, load)
    findings.assert_none(stack)


def test_a_storage_outage_refuses_uploads_quickly_and_loses_nothing(healthy):
    stack, findings = healthy, Findings()
    load, server_pid, worker_pid = start_load(stack)
    try:
        paused_at = time.monotonic()
        stack.s3.pause()
        time.sleep(8)
        check_ready_names(findings, stack, "storage", during="while storage is paused")
        stack.s3.resume()
        outage = load.since(paused_at)
        stack.s3.kill()
        time.sleep(4)
        check_ready_names(findings, stack, "storage", during="while storage is dead")
        outage = load.since(paused_at)
        stack.s3.start()
        stack.ensure_bucket()  # moto keeps nothing; a MinIO would still have its bucket
        check_recovered(findings, stack, load, server_pid, worker_pid)
    finally:
        if stack.s3.ensure_running():
            stack.ensure_bucket()
        load.stop()
    check_contract(findings, load.answers, during="the drill")
    # Place reads and submissions do not need storage.
    others = [a for a in outage if a.kind in ("search", "viewport", "submit")]
    findings.check(
        all(a.status in (200, 201) for a in others),
        "reads or submissions failed without storage: "
        + "\n".join(a.describe() for a in others if a.status not in (200, 201))[:3000],
    )
    uploads = [a for a in outage if a.kind == "upload"]
    findings.check(
        bool(uploads) and all(a.status == 503 for a in uploads),
        "uploads without storage: " + "\n".join(a.describe() for a in uploads)[:3000],
    )
    check_fast(findings, uploads, during="the outage (uploads)", since=paused_at)
    check_nothing_lost(findings, stack, load)
    findings.assert_none(stack)
