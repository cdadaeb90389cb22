"""Micro-batching: concurrent requests queue their documents; one worker thread links them in shared batches.

The first document to arrive opens a batch and waits up to ``window_s`` for others (at most
``max_batch`` documents in all); the batch then runs in the worker thread, off the event loop, so the
server keeps answering (``/health``) while the model works. Documents that arrive meanwhile queue up
and form the next batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from entqa_kit.core.errors import EntQAError

J = TypeVar("J")
R = TypeVar("R")


@dataclass
class _Queued(Generic[J]):
    job: J
    future: asyncio.Future = field(repr=False)


class MicroBatcher(Generic[J, R]):
    """Queue jobs from many requests; run them ``max_batch`` at a time with ``run_batch(jobs, on_result)``.

    ``run_batch`` returns one result per job; it may also hand each result over as soon as it has it
    (``on_result(position, result)``, from the worker thread) so a request need not wait for the
    whole batch.
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[J], Callable[[int, R], None]], Sequence[R]],
        max_batch: int = 16,
        window_s: float = 0.01,
        max_queue: int = 512,
    ) -> None:
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.window_s = window_s
        self.max_queue = max_queue
        self.batch_sizes: list[int] = []
        """Size of every batch run so far, in order."""
        self._queue: asyncio.Queue[_Queued[J]] | None = None
        self._worker: asyncio.Task | None = None
        self._running: asyncio.Future | None = None
        self._forming = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="entqa-model")

    @property
    def queued(self) -> int:
        """Documents waiting: queued, or in the batch being formed."""
        return (self._queue.qsize() if self._queue is not None else 0) + self._forming

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._loop(), name="entqa-batcher")

    async def stop(self) -> None:
        """Finish the batch in progress, fail what is still queued, and release the worker thread."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)
        while self._queue is not None and not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(EntQAError("E130", queued=0, limit=self.max_queue))
        self._pool.shutdown(wait=True)

    async def submit(self, jobs: Sequence[J]) -> list[R]:
        """The results of ``jobs``, in order, once the batches holding them have run."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not awaited")
        if self.queued + len(jobs) > self.max_queue:
            raise EntQAError("E130", queued=self.queued, limit=self.max_queue)
        loop = asyncio.get_running_loop()
        items = [_Queued(job, loop.create_future()) for job in jobs]
        for item in items:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(item.future for item in items)))

    async def run_alone(self, func: Callable[[], R]) -> R:
        """Run other model work (a search) in the worker thread, between batches."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func)

    async def _loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            self._forming = 1
            deadline = loop.time() + self.window_s
            while len(batch) < self.max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    self._forming += 1
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                    self._forming += 1
                except asyncio.TimeoutError:
                    break
            self._forming = 0
            await self._run(batch)

    async def _run(self, batch: list[_Queued[J]]) -> None:
        live = [item for item in batch if not item.future.cancelled()]
        if not live:
            return
        self.batch_sizes.append(len(live))
        loop = asyncio.get_running_loop()

        def on_result(position: int, result: R) -> None:
            loop.call_soon_threadsafe(_resolve, live[position].future, result)

        running = loop.run_in_executor(self._pool, self.run_batch, [item.job for item in live], on_result)
        # results are delivered by the callback, so a stop() during the batch still answers its requests
        running.add_done_callback(lambda done: _deliver(live, done))
        self._running = running
        await asyncio.shield(running)


def _deliver(items: list[_Queued], done: asyncio.Future) -> None:
    error = done.exception() if not done.cancelled() else EntQAError("E130", queued=0, limit=0)
    results = [error] * len(items) if error is not None else done.result()
    for item, result in zip(items, results):
        if error is not None:
            if not item.future.done():
                item.future.set_exception(error)
        else:
            _resolve(item.future, result)


def _resolve(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)
