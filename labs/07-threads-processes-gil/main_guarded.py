"""Run: python main_guarded.py — a script that starts a spawn process pool safely.

A spawned worker imports this file (as the module ``__mp_main__``) to find ``square``. Everything that must run
only in the parent, above all starting the pool, sits under ``if __name__ == "__main__":``.
"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        print("squares:", list(pool.map(square, range(6))))
