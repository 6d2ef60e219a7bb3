"""The Redis consumer that fetches and acknowledges in batches: every message runs once and is acknowledged,
none is lost from Redis's bookkeeping when the worker stops or the connection drops, and the prefetch window
is kept.

Against the Redis the tests run with (ADVOCACY_BROKER_URL), in a namespace of their own.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.errors import ConnectionClosed

from advocacy.redis_broker import BatchingRedisBroker

BROKER_URL = os.environ.get("ADVOCACY_BROKER_URL") or ""

pytestmark = pytest.mark.skipif(not BROKER_URL.startswith(("redis://", "rediss://", "unix://")),
                                reason="the tests run without a Redis broker")

QUEUE = "batching"


@pytest.fixture
def broker() -> Iterator[BatchingRedisBroker]:
    broker = BatchingRedisBroker(url=BROKER_URL, namespace=f"advocacy-test-{uuid.uuid4().hex}")
    broker.declare_queue(QUEUE)
    yield broker
    broker.flush_all()
    broker.client.close()


def enqueue(broker: BatchingRedisBroker, count: int) -> None:
    for number in range(count):
        broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="record", args=(number,), kwargs={},
                                        options={}))


def settled(broker: BatchingRedisBroker) -> bool:
    """Redis holds nothing for the queue: no message queued, none fetched and waiting for its acknowledgement."""
    return int(broker.do_qsize(QUEUE)) == 0


def acknowledged_in_the_worker(broker: BatchingRedisBroker, count: int) -> Any:
    """A consumer that fetched ``count`` messages, each acknowledged by a worker thread and not yet sent."""
    enqueue(broker, count)
    consumer = broker.consume(QUEUE, prefetch=8, timeout=50)
    for message in [next(consumer) for _ in range(count)]:
        consumer.ack(message)
    return consumer


def test_a_busy_worker_runs_every_message_once_with_a_round_trip_per_batch(broker, monkeypatch):
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="record")
    def record(number: int) -> None:
        with lock:
            ran[number] += 1

    fetches: list[int] = []
    acknowledgements: list[int] = []
    fetch, ack_many = broker.do_fetch, broker.ack_many

    def counted_fetch(queue_name: str, count: int) -> Any:
        fetched = fetch(queue_name, count)
        fetches.append(len(fetched))
        return fetched

    def counted_ack_many(queue_name: str, ids: list[str]) -> None:
        acknowledgements.append(len(ids))
        ack_many(queue_name, ids)

    monkeypatch.setattr(broker, "do_fetch", counted_fetch)
    monkeypatch.setattr(broker, "ack_many", counted_ack_many)
    enqueue(broker, 300)
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        broker.join(QUEUE, timeout=30_000)  # nothing queued and nothing waiting for its acknowledgement
    finally:
        worker.stop()

    assert ran == Counter(range(300))
    assert sum(acknowledgements) == 300
    # dramatiq's consumer made one round trip per acknowledgement and fetched again after each: 300 and
    # about as many
    assert len(acknowledgements) < 150
    assert len([count for count in fetches if count]) < 150
    assert settled(broker)


def test_the_window_is_refilled_by_a_quarter_once_acknowledgements_free_it(broker):
    enqueue(broker, 20)
    consumer = broker.consume(QUEUE, prefetch=8, timeout=50)
    taken = [next(consumer) for _ in range(8)]
    assert all(message is not None for message in taken)
    # the window is full: no more messages until the worker threads acknowledge some
    assert next(consumer) is None
    assert consumer.outstanding_message_count == 8
    consumer.ack(taken[0])
    assert next(consumer) is None  # one free place is less than a quarter of the window
    consumer.ack(taken[1])
    refilled = [next(consumer), next(consumer)]
    assert all(message is not None for message in refilled)
    assert consumer.outstanding_message_count == 8
    assert next(consumer) is None


def test_a_consumer_that_closes_sends_the_acknowledgements_it_holds(broker):
    consumer = acknowledged_in_the_worker(broker, 3)
    assert not settled(broker)  # acknowledged in the worker, not yet told to Redis
    consumer.close()
    assert settled(broker)


def test_acknowledgements_a_lost_connection_kept_from_redis_are_sent_by_the_next_consumer(broker, monkeypatch):
    consumer = acknowledged_in_the_worker(broker, 3)

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise redis.ConnectionError("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(broker.client, "pipeline", lost)
        with pytest.raises(ConnectionClosed):
            next(consumer)
        # what dramatiq's consumer thread does next, the connection still lost: it requeues its delayed
        # messages (none, after a connection error) and closes the consumer, ignoring only ConnectionClosed
        consumer.requeue([])
        consumer.close()
    assert not settled(broker)
    # ... and builds a new consumer
    assert next(broker.consume(QUEUE, prefetch=8, timeout=50)) is None
    assert settled(broker)


def test_acknowledgements_reach_a_redis_that_lost_its_scripts(broker):
    consumer = acknowledged_in_the_worker(broker, 2)
    broker.client.script_flush()  # as after a restart of Redis
    assert next(consumer) is None
    assert settled(broker)
