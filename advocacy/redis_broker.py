"""dramatiq's Redis broker, with a consumer that talks to Redis once per batch of messages, not twice per message.

dramatiq's Redis consumer acknowledges each message with a round trip of its own, from the worker thread that
ran it, and fetches again as soon as one message's place in the prefetch window is free, so a busy worker
made two Redis round trips per message (a fifth of a mail's CPU in the worker, measured in
``benchmarks/README.md``). This consumer

- keeps the acknowledgements in a buffer that the consumer thread sends in one pipeline (a worker thread
  only appends to it), and
- fetches when a quarter of the window is free, waiting for acknowledgements rather than on a timer while
  the window is full; with nothing queued it backs off as dramatiq's consumer does, and sends what was
  acknowledged meanwhile when it wakes.

Nothing else changes: the same Lua script does the same work per message, the heartbeat and maintenance
run as before, and a message is still acknowledged only after it ran. An acknowledgement not yet sent when
the process dies leaves its message in the worker's acknowledgement set, which dramatiq's maintenance puts
back on the queue once the worker's heartbeat is gone; the outbox then finds its row done and skips it, as
for any message delivered twice. The buffer belongs to the broker, so a consumer rebuilt after a lost
connection sends what the old one could not; a worker that stops sends it when it closes its consumers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message


class AckBuffer:
    """The acknowledgements a queue's worker threads made and the consumer thread has not sent yet."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._changed = threading.Condition()

    def add(self, redis_message_id: str, then: Callable[[], object]) -> None:
        """Keep an acknowledgement; ``then`` runs under the same lock, so a waiter woken by it sees its effect."""
        with self._changed:
            self._ids.append(redis_message_id)
            then()
            self._changed.notify_all()

    def take(self) -> list[str]:
        with self._changed:
            ids, self._ids = self._ids, []
        return ids

    def __len__(self) -> int:
        return len(self._ids)

    def give_back(self, ids: list[str]) -> None:
        with self._changed:
            self._ids[:0] = ids

    def wait_for(self, until: Callable[[], bool], timeout: float) -> None:
        """Until ``until()`` holds after an acknowledgement, at most ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(until, timeout)


class BatchingRedisBroker(RedisBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ack_buffers: dict[str, AckBuffer] = {}
        self._ack_buffers_lock = threading.Lock()

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _BatchingConsumer

    def ack_buffer(self, queue_name: str) -> AckBuffer:
        with self._ack_buffers_lock:
            return self._ack_buffers.setdefault(queue_name, AckBuffer())

    def ack_many(self, queue_name: str, redis_message_ids: list[str]) -> None:
        """Acknowledge messages with dramatiq's own script, one call each, in one round trip."""
        script = self.scripts["dispatch"]
        # what dramatiq's dispatch is given for an acknowledgement (which never runs the maintenance), but the id
        arguments = ["ack", current_millis(), queue_name, self.broker_id, self.heartbeat_timeout,
                     self.dead_message_ttl, 0, self._max_unpack_size()]
        # EVALSHA straight into the pipeline: a script object given a pipeline first asks Redis whether the
        # script exists, a round trip of its own each time
        pipeline = self.client.pipeline(transaction=False)
        for redis_message_id in redis_message_ids:
            pipeline.evalsha(script.sha, 1, self.namespace, *arguments, redis_message_id)
        try:
            pipeline.execute()
        except redis.exceptions.NoScriptError:
            # Redis lost its scripts (restarted or flushed): the script object loads it again
            for redis_message_id in redis_message_ids:
                script(keys=[self.namespace], args=[*arguments, redis_message_id])


class _BatchingConsumer(_RedisConsumer):
    broker: BatchingRedisBroker

    def __init__(self, broker: BatchingRedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        self.acks = broker.ack_buffer(queue_name)
        # fetch when this many places in the window are free: several messages per round trip, while the
        # worker threads still have a quarter of the window queued
        self.refill = max(1, prefetch // 4)

    def ack(self, message: MessageProxy) -> None:
        # the current queue, not message.queue_name: a delayed message is acknowledged where it was fetched
        self.acks.add(message.options["redis_message_id"],
                      then=lambda: self.queued_message_ids.discard(message.message_id))

    def send_acks(self) -> None:
        ids = self.acks.take()
        if not ids:
            return
        try:
            self.broker.ack_many(self.queue_name, ids)
        except BaseException:
            self.acks.give_back(ids)
            raise

    def room(self) -> int:
        return self.prefetch - self.outstanding_message_count

    def close(self) -> None:
        # dramatiq's consumer thread closes its consumer after a lost connection too, and ignores only its own
        # ConnectionClosed: what cannot be sent stays in the broker's buffer, for the consumer built next; a
        # worker that stops leaves those messages to run again once its heartbeat is gone, skipped as done
        try:
            self.send_acks()
        except redis.ConnectionError:
            self.logger.warning("Could not send %d acknowledgements to Redis on close.", len(self.acks))
        super().close()

    def __next__(self) -> MessageProxy | None:
        try:
            self.send_acks()
            if not self.message_cache:
                if self.room() < self.refill:
                    # the window is full: wait until the worker threads have acknowledged enough to refill it
                    self.acks.wait_for(lambda: self.room() >= self.refill, self.timeout / 1000)
                    return None
                self.message_cache = self.broker.do_fetch(self.queue_name, self.room()) or []
            while self.message_cache:
                data = self.message_cache.pop(0)
                if data is None:  # dramatiq's guard against a message gone from the hash
                    continue
                self.misses = 0
                message = Message.decode(data)
                self.queued_message_ids.add(message.message_id)
                return MessageProxy(message)
            # nothing queued: back off as dramatiq does. Not woken by acknowledgements: with messages trickling
            # in, that cost a fetch per message more than dramatiq's consumer (they wait for the next call, at
            # most the worker's timeout)
            self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
            time.sleep(backoff_ms / 1000)
            return None
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None
