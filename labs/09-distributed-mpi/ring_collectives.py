"""Run: mpiexec -n 4 python ring_collectives.py — point-to-point messages round a ring, then four collectives.

Every rank runs this same file (SPMD); its rank decides what it does. Only rank 0 prints, after gathering what
the others have, so the output does not depend on which process happens to write first.
"""
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()

# Point to point: a token goes round the ring 0 -> 1 -> ... -> size-1 -> 0; every rank appends its rank.
# Rank 0 sends first and receives last; every other rank receives first, so no two ranks wait for each other.
if rank == 0:
    comm.send([0], dest=1 % size, tag=7)
    token = comm.recv(source=size - 1, tag=7)
else:
    token = comm.recv(source=rank - 1, tag=7)
    comm.send(token + [rank], dest=(rank + 1) % size, tag=7)

# Collectives: every rank must call them, in the same order.
config = comm.bcast({"steps": 100, "r": 0.25} if rank == 0 else None, root=0)
mine = comm.scatter([list(range(p * 3, p * 3 + 3)) for p in range(size)] if rank == 0 else None, root=0)
partial = sum(x * x for x in mine)
total = comm.allreduce(partial, op=MPI.SUM)  # every rank gets the sum
gathered = comm.gather((rank, mine, partial), root=0)

if rank == 0:
    print(f"{size} ranks; the ring token came back as {token}")
    print(f"bcast from rank 0: {config}")
    for r, items, p in gathered:
        print(f"rank {r}: scatter gave {items}, partial sum of squares {p}")
    print(f"allreduce(SUM) of the partial sums on every rank: {total}")
