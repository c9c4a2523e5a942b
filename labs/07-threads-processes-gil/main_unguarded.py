"""Run: python main_unguarded.py — the same script WITHOUT the __main__ guard (broken on purpose).

Each spawned worker imports this file to find ``square`` and so runs the module's top level again, which tries
to start a pool of its own while the worker is still starting up: multiprocessing refuses ("An attempt has been
made to start a new process before the current process has finished its bootstrapping phase") and the pool in
the parent breaks.
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
    print("squares:", list(pool.map(square, range(6))))
