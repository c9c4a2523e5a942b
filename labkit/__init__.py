"""Student-side helpers for the Substrate Labs notebooks.

Small, dependency-light modules that every lab imports from wherever nbgrader puts the notebook:

- ``labkit.platform``: what machine am I on (ISA, SIMD, caches, BLAS, ONNX Runtime providers)
- ``labkit.timing``: an honest timing protocol and a fake clock for deterministic tests
- ``labkit.datasets``: the datasets shipped in ``datasets/``, checked against their sha256 sums
- ``labkit.inference``: ONNX Runtime sessions pinned for reproducible classroom measurements
- ``labkit.grading``: test cells forbid labkit's twins of a task; demos fall back to a reference
- ``labkit.checks``: assertions whose messages say what was checked and what came out
- ``labkit.numerics``: unit roundoff and Higham's gamma_n, for derived tolerances
- ``labkit.models``: the digits MLP (numpy references, seeded training, ONNX export) shared by labs 02, 10-13
- ``labkit.memory``: cache lines of strided reads, STREAM byte accounting, knees matched to caches (lab 04)
- ``labkit.cachesim``: an LRU set-associative cache simulator and the blocked transpose it checks (lab 04)
- ``labkit.ortperf``: ONNX Runtime session options, optimisation levels, profiles, batching, IOBinding (lab 10)
- ``labkit.concurrency``: CPU vs wall time, thread and spawn pools, private counts, BLAS thread limits (lab 07)
- ``labkit.compression``: linear quantization by hand, ONNX Runtime's quantizers, magnitude pruning, Pareto (lab 11)
- ``labkit.offload``: provider fallback, nodes an NPU provider takes, graph partitions, offload cost (lab 12)
- ``labkit.serving``: service-time fits, a dynamic-batching simulator, Little's law, shared-memory workers (lab 13)
- ``labkit.mpi``: mpiexec launches, domain decomposition, heat equation with halo exchange, alpha-beta model (lab 09)
- ``labkit.sharedmem``: numpy arrays in shared-memory segments, /dev/shm listings, false sharing (lab 08)
- ``labkit.workspan``: tree reduction and Blelloch scan with work/span counts, Mandelbrot loads, schedules (lab 08)
"""

__version__ = "0.1.0"
