"""Run: mpiexec -n P python heat_mpi.py POINTS R STEPS SEED OUT.npy — the 1-D heat equation on P ranks.

Each rank owns one block of the rod (labkit.mpi.split_domain) plus a ghost cell on each side. Before every step
it swaps edge values with its neighbours (Sendrecv: send and receive in one call, so no rank waits for another
that is also sending), then updates its own points with labkit.mpi.heat_update — the same operations, in the same
order, as the serial loop, so the gathered result equals the serial one bit for bit.
"""
import sys

import numpy as np
from mpi4py import MPI

from labkit.mpi import heat_update, split_domain

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
points, r, steps, seed, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

u0 = np.random.default_rng(seed).random(points)  # every rank draws the same rod, then keeps its own block
start, stop = split_domain(points, size)[rank]
block = np.zeros(stop - start + 2)
block[1:-1] = u0[start:stop]
left = rank - 1 if rank > 0 else MPI.PROC_NULL  # PROC_NULL: a Sendrecv with no neighbour does nothing
right = rank + 1 if rank < size - 1 else MPI.PROC_NULL
lo = 2 if start == 0 else 1  # the domain's two end points stay fixed
hi = block.size - 2 if stop == points else block.size - 1
sent = 0
for _ in range(steps):
    comm.Sendrecv(block[1:2], dest=left, sendtag=0, recvbuf=block[-1:], source=right, recvtag=0)
    comm.Sendrecv(block[-2:-1], dest=right, sendtag=1, recvbuf=block[0:1], source=left, recvtag=1)
    sent += (left != MPI.PROC_NULL) + (right != MPI.PROC_NULL)
    block[lo:hi] = heat_update(block[lo - 1:hi - 1], block[lo:hi], block[lo + 1:hi + 1], r)

counts = comm.gather(stop - start, root=0)
messages = comm.reduce(sent, op=MPI.SUM, root=0)
result = np.empty(points) if rank == 0 else None
comm.Gatherv(np.ascontiguousarray(block[1:-1]), [result, counts] if rank == 0 else None, root=0)
if rank == 0:
    np.save(out, result)
    print(f"{size} ranks, blocks of {counts} points, {messages} halo messages of 8 bytes in {steps} steps")
