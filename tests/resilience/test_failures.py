"""Nothing lost, nothing twice: the broker stopped, SMTP down or refusing, a worker killed mid-job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.resilience.conftest import BIN, PETITION, RESEND_AFTER, Process, Stack, confirm_link, wait_for

pytestmark = pytest.mark.resilience

SIGNATURE_STATE = "SELECT state FROM signatures WHERE id = (SELECT max(id) FROM signatures)"
OUTBOX_ROW = "SELECT {} FROM outbox ORDER BY id LIMIT 1"


def assert_sent_once_more_than_a_resend_window_later(stack: Stack) -> None:
    """One email, and still one after the relay, the only thing that sends a done row's job again, has run
    past the resend window; it sent nothing meanwhile."""
    assert len(stack.smtp.sink.accepted) == 1
    dispatched = stack.scalar(OUTBOX_ROW.format("dispatch_count"))
    stack.wait_for_relay_run(after=stack.db_now(plus=RESEND_AFTER))
    assert stack.scalar(OUTBOX_ROW.format("dispatch_count")) == dispatched
    assert stack.scalar(OUTBOX_ROW.format("done_at IS NOT NULL")) is True
    assert len(stack.smtp.sink.accepted) == 1


def processes_started_by(pgid: int) -> list[int]:
    """The processes in a supervisor's process group, the supervisor itself left out."""
    import subprocess

    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout  # noqa: S607
    return [int(pid) for pid in out.split() if int(pid) != pgid]


def test_signing_works_with_the_broker_stopped_and_the_mail_follows_once(stack: Stack):
    stack.smtp.start()
    stack.start_worker()
    stack.redis.stop()

    status, page = stack.browser().sign("broker.down@example.org")
    assert status == 200
    assert 'href="/p/free-ukrainian-civilians"' in page  # the "check your email" page
    assert stack.scalar(SIGNATURE_STATE) == "pending"
    # the web process hands the row over after answering: the refused hand-over flags it for the relay
    wait_for(lambda: stack.scalar(OUTBOX_ROW.format("needs_dispatch")), 30, "the row flagged for the relay")
    # the relay has tried while the broker was down: the row is kept for it, and nothing went out
    stack.wait_for_relay_run(after=stack.db_now())
    assert stack.scalar(OUTBOX_ROW.format("needs_dispatch")) is True
    assert stack.scalar(OUTBOX_ROW.format("dispatch_count")) == 0
    assert stack.smtp.sink.accepted == []

    stack.start_redis()
    wait_for(lambda: stack.smtp.sink.accepted, 60, "the confirmation after the broker came back")
    wait_for(lambda: stack.scalar(OUTBOX_ROW.format("done_at IS NOT NULL")), 30, "the row marked done")
    assert stack.scalar(OUTBOX_ROW.format("dispatch_count")) == 1  # the relay sent it, once
    assert_sent_once_more_than_a_resend_window_later(stack)


def test_smtp_down_is_retried_with_backoff_and_nothing_is_lost(stack: Stack):
    stack.start_worker()
    status, _ = stack.browser().sign("smtp.down@example.org")
    assert status == 200
    # a failed attempt leaves the row held for its retry (the lease runs past the longest backoff)
    wait_for(lambda: stack.scalar(OUTBOX_ROW.format("lease_until > now() + interval '1 hour'")), 30,
             "a first, failed delivery attempt")
    assert stack.scalar(OUTBOX_ROW.format("attempts")) == 1
    assert stack.scalar(OUTBOX_ROW.format("done_at IS NULL AND failed_at IS NULL")) is True
    assert stack.scalar(SIGNATURE_STATE) == "pending"
    # past the resend window, the relay leaves the row to its retry: no second message beside it, nothing lost
    stack.wait_for_relay_run(after=stack.db_now(plus=RESEND_AFTER))
    assert stack.scalar(OUTBOX_ROW.format("dispatch_count")) == 0
    assert stack.scalar(OUTBOX_ROW.format("done_at IS NULL AND failed_at IS NULL")) is True

    stack.smtp.start()
    wait_for(lambda: stack.smtp.sink.accepted, 90, "delivery once SMTP is back")
    assert stack.scalar(OUTBOX_ROW.format("attempts")) >= 2
    wait_for(lambda: stack.scalar(OUTBOX_ROW.format("done_at IS NOT NULL")), 30, "the row marked done")
    assert_sent_once_more_than_a_resend_window_later(stack)
    # and the emailed link confirms
    browser = stack.browser()
    link = confirm_link(stack.smtp.sink.accepted[0])
    token = browser.confirm_page(link)
    assert browser.post(link.removeprefix(stack.web_url), {"csrf_token": token})[0] == 200
    assert stack.scalar(SIGNATURE_STATE) == "confirmed"


def test_a_worker_killed_mid_job_has_the_job_redone_once(stack: Stack):
    stack.smtp.sink.delay = 4.0  # the mail server takes its time to answer DATA
    stack.smtp.start()
    first = stack.start_worker()
    stack.browser().sign("killed.worker@example.org")
    assert stack.smtp.sink.data_started.wait(30), "the worker never reached the mail server"
    first.kill()  # SIGKILL in the middle of the SMTP conversation
    # the mail server saw the client go before it answered DATA: that message was never accepted
    assert stack.smtp.sink.data_abandoned.wait(stack.smtp.sink.delay + 10), "the killed worker's DATA was answered"
    assert stack.smtp.sink.accepted == []
    assert stack.scalar(OUTBOX_ROW.format("done_at IS NULL")) is True

    stack.smtp.sink.delay = 0
    stack.start_worker()
    wait_for(lambda: stack.smtp.sink.accepted, 90, "the job redone by another worker")
    wait_for(lambda: stack.scalar(OUTBOX_ROW.format("done_at IS NOT NULL")), 30, "the row marked done")
    assert_sent_once_more_than_a_resend_window_later(stack)
    assert stack.scalar(OUTBOX_ROW.format("attempts")) == 2
    assert stack.scalar(SIGNATURE_STATE) == "pending"


def test_parallel_confirmations_over_http_count_once(stack: Stack):
    stack.smtp.start()
    stack.start_worker()
    tally = ("SELECT coalesce(sum(count), 0) FROM tally_shards t JOIN petitions p ON p.id = t.petition_id "
             "WHERE p.slug = :slug")
    before = stack.scalar(tally, slug=PETITION)
    browser = stack.browser()
    browser.sign("many.clicks@example.org", country="LT")
    wait_for(lambda: stack.smtp.sink.accepted, 60, "the confirmation email")
    link = confirm_link(stack.smtp.sink.accepted[0])
    token = browser.confirm_page(link)
    path = link.removeprefix(stack.web_url)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: browser.post(path, {"csrf_token": token})[0], range(16)))
    assert statuses == [200] * 16
    assert stack.scalar(tally, slug=PETITION) == before + 1
    confirmed = ("SELECT count(*) FROM signatures s JOIN petitions p ON p.id = s.petition_id "
                 "WHERE s.state = 'confirmed' AND p.slug = :slug")
    assert stack.scalar(confirmed, slug=PETITION) == before + 1


@pytest.mark.parametrize("stack", ["amqp"], indirect=True)
def test_the_same_code_runs_on_rabbitmq(stack: Stack):
    assert stack.env["ADVOCACY_BROKER_URL"].startswith("amqp://")
    stack.smtp.start()
    stack.start_worker()
    browser = stack.browser()
    assert browser.sign("rabbit@example.org", country="GE")[0] == 200
    wait_for(lambda: stack.smtp.sink.accepted, 60, "the confirmation through RabbitMQ")
    link = confirm_link(stack.smtp.sink.accepted[0])
    assert browser.post(link.removeprefix(stack.web_url), {"csrf_token": browser.confirm_page(link)})[0] == 200
    assert stack.scalar(SIGNATURE_STATE) == "confirmed"
    wait_for(lambda: len(stack.smtp.sink.accepted) == 2, 60, "the 'confirmed' email with the withdraw link")


def test_worker_processes_are_replaced_when_they_die_and_all_stop_on_sigterm(stack: Stack):
    import os
    import signal

    supervisor = Process([str(BIN / "advocacy"), "worker", "--processes", "2", "--threads", "1"], stack.env,
                         stack.tmp / "supervisor.log")
    supervisor.start()
    assert supervisor.proc is not None
    pgid = supervisor.proc.pid

    def children() -> list[int]:
        return processes_started_by(pgid)

    wait_for(lambda: "worker started" in (stack.tmp / "supervisor.log").read_text(errors="replace")
             and len(children()) >= 2, 60, "two worker processes")
    first = children()
    os.kill(first[-1], signal.SIGKILL)
    wait_for(lambda: "starting another" in (stack.tmp / "supervisor.log").read_text(errors="replace"), 30,
             "the supervisor to replace the dead process")
    # the replacement does the work: a signature still gets its mail
    stack.smtp.start()
    stack.browser().sign("supervised@example.org")
    wait_for(lambda: stack.smtp.sink.accepted, 60, "the confirmation from the supervised workers")

    os.kill(pgid, signal.SIGTERM)
    supervisor.proc.wait(40)
    wait_for(lambda: not children(), 20, "every worker process to stop")


def test_workers_started_with_nice_run_at_a_lower_cpu_priority_and_still_send(stack: Stack):
    """`advocacy worker --nice 5`: the supervisor and the processes it starts run at nice 5 (what `ps` shows as
    NI), and so does the session's autogroup, which Linux shares the CPU by first; mail still goes out."""
    import os
    from pathlib import Path

    supervisor = Process([str(BIN / "advocacy"), "worker", "--processes", "2", "--threads", "1", "--nice", "5"],
                         stack.env, stack.tmp / "nice.log")
    supervisor.start()
    assert supervisor.proc is not None
    pgid = supervisor.proc.pid
    try:
        wait_for(lambda: "worker started" in (stack.tmp / "nice.log").read_text(errors="replace")
                 and len(processes_started_by(pgid)) >= 2, 60, "two worker processes")
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in [pgid, *processes_started_by(pgid)]} == {5}
        autogroup = Path(f"/proc/{pgid}/autogroup")
        if autogroup.exists():  # Linux with autogroups: "/autogroup-<n> nice 5"
            assert autogroup.read_text().split()[-1] == "5"
        stack.smtp.start()
        stack.browser().sign("niced@example.org")
        wait_for(lambda: stack.smtp.sink.accepted, 60, "the confirmation from the niced workers")
    finally:
        supervisor.stop()
