"""Run: mpiexec -n 2 python pingpong.py — one-way message times between two ranks, as JSON on stdout.

Rank 0 sends m bytes, rank 1 sends them back; half the round trip is one message's time. Each size is repeated
until REPEATS round trips or BUDGET_S seconds, whichever comes first, so a loaded machine does not stall the lab.
"""
import json
import time

import numpy as np
from mpi4py import MPI

SIZES = [2**k for k in range(0, 23, 2)]  # 1 B .. 4 MiB
REPEATS, BUDGET_S = 30, 0.08

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
peer = 1 - rank
samples = {"nbytes": [], "seconds": []}
for m in SIZES:
    buffer = np.zeros(m, dtype=np.uint8)
    comm.Barrier()
    began = time.perf_counter()
    for i in range(REPEATS + 1):  # round 0 is a warm-up
        start = time.perf_counter()
        if rank == 0:
            comm.Send(buffer, dest=peer)
            comm.Recv(buffer, source=peer)
        else:
            comm.Recv(buffer, source=peer)
            comm.Send(buffer, dest=peer)
        one_way = (time.perf_counter() - start) / 2
        if i > 0:
            samples["nbytes"].append(m)
            samples["seconds"].append(one_way)
        # rank 0 decides when a size is done and tells rank 1, so both leave the loop together
        done = comm.bcast(time.perf_counter() - began > BUDGET_S, root=0) if rank == 0 else comm.bcast(None, root=0)
        if done:
            break
if rank == 0:
    print(json.dumps(samples))
