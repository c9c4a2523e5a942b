"""Stage 2, where the sandboxes run: local worker processes, or a Dask cluster.

Both take :class:`Payload` s and yield ``(payload, Executed-as-dict | failure sentence)`` as each finishes, in
any order. A failure sentence means the grading machinery failed (a worker died or went silent), never the
student's code, which the sandbox and the budget watch contain; the engine regrades those alone.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import IO

from .execute import Payload, execute

Result = tuple[Payload, "dict | str"]


class WorkerError(RuntimeError):
    """A grading worker could not start: the environment is broken, not a submission."""


class _Worker:
    def __init__(self, log: IO) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        self.log = log
        self.job: Payload | None = None
        self.deadline = 0.0

    def wait_ready(self, startup_timeout: float = 300) -> None:
        """Block until the worker has its first kernel started (workers are spawned first, so they boot
        side by side)."""
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(startup_timeout)
        selector.close()
        if not ready or not self.process.stdout.readline():
            self.kill()
            raise WorkerError(f"a grading worker did not start; see {self.log.name}")

    def send(self, job: Payload, budget: float) -> None:
        self.job, self.deadline = job, time.monotonic() + budget
        self.process.stdin.write(json.dumps(asdict(job)) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict | str:
        line = self.process.stdout.readline()
        if not line:
            return f"the grading worker died (exit code {self.process.wait()}) while running this submission"
        return json.loads(line)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the worker; its sandboxes die with it
        self.process.wait()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


class LocalPool:
    """``size`` worker processes on this machine, each with a pre-started sandboxed kernel."""

    def __init__(self, size: int, log: IO, job_timeout: float) -> None:
        self.size, self.log, self.job_timeout = size, log, job_timeout

    def run(self, payloads: Iterable[Payload]) -> Iterator[Result]:
        """Payloads are taken lazily: the next ones are prepared while the workers execute."""
        source = iter(payloads)
        ahead = deque(itertools.islice(source, self.size))  # as many as there are workers: none waits for one
        workers = [_Worker(self.log) for _ in range(len(ahead))]
        selector = selectors.DefaultSelector()

        def dispatch(worker: _Worker) -> None:
            # a worker is given its next job before the last result is recorded: it never waits on the grader
            job = ahead.popleft() if ahead else next(source, None)
            if job is not None:
                worker.send(job, self.job_timeout)

        try:
            for worker in workers:
                worker.wait_ready()
                selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
                dispatch(worker)
            while any(w.job for w in workers):
                ahead.extend(itertools.islice(source, max(0, len(workers) - len(ahead))))
                busy = [w for w in workers if w.job]
                wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                for key, _ in selector.select(wait):
                    worker = key.data
                    job, answer = worker.job, worker.answer()
                    worker.job = None
                    if isinstance(answer, str):
                        worker = self._replace(worker, workers, selector)
                    dispatch(worker)
                    yield job, answer
                for worker in [w for w in workers if w.job and time.monotonic() > w.deadline]:
                    job, worker.job = worker.job, None
                    dispatch(self._replace(worker, workers, selector))
                    yield job, (f"grading took longer than the {self.job_timeout:g} s budget for one submission "
                                "and was stopped")
        finally:
            selector.close()
            for worker in workers:
                worker.close() if worker.process.poll() is None and not worker.job else worker.kill()

    def _replace(self, worker: _Worker, workers: list[_Worker], selector) -> _Worker:
        selector.unregister(worker.process.stdout)
        worker.kill()
        fresh = _Worker(self.log)
        fresh.wait_ready()
        workers[workers.index(worker)] = fresh
        selector.register(fresh.process.stdout, selectors.EVENT_READ, fresh)
        return fresh


def execute_remote(payload: dict) -> dict:
    """What a Dask worker runs: the same sandboxed execution."""
    return asdict(execute(Payload(**payload)))


class DaskBackend:
    """A Dask cluster: ``address`` of a running scheduler, or ``None`` for a LocalCluster of ``size``.

    Payloads travel as data (no shared filesystem); a task whose worker dies is retried by the scheduler on
    another worker, and each result is taken exactly once here, so nothing is lost or written twice.
    """

    def __init__(self, address: str | None, size: int) -> None:
        self.address, self.size = address, size

    def run(self, payloads: Iterable[Payload]) -> Iterator[Result]:
        source = iter(payloads)
        first = next(source, None)
        if first is None:  # nothing to grade: no cluster started for it
            return
        from distributed import Client, LocalCluster, as_completed  # only when asked: importing it is slow

        cluster = None if self.address else LocalCluster(n_workers=self.size, threads_per_worker=1,
                                                         processes=True, host="127.0.0.1",
                                                         dashboard_address=None)
        with Client(self.address or cluster) as client:
            futures = {client.submit(execute_remote, asdict(p), pure=False, retries=1,
                                     key=f"grade-{p.assignment}-{p.student}-{os.urandom(4).hex()}"): p
                       for p in itertools.chain([first], source)}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as error:  # a worker lost too often, or the cluster went away
                    yield futures[future], f"the Dask cluster could not run this submission ({error})"
        if cluster is not None:
            cluster.close()
