"""Every lab on aarch64: run the source notebooks on this x86-64 machine and, under qemu user-mode emulation, in an
aarch64 Debian userland; check that every graded cell passes on both and the outputs labs promise agree.

- ``convention``: which cells a lab says must agree across ISAs, and within what tolerance (cell tags, metadata)
- ``records``: what one run of one notebook produced, cell by cell (saved as JSON)
- ``compare``: the comparison of two runs (pure; unit-tested in ``make test``)
- ``sysroot``: the cached aarch64 userland and the project's aarch64 wheels under ``build/arm64/``
- ``emulation``: how to start aarch64 programs here (binfmt_misc, or an explicit ``qemu-aarch64-static -L``)
- ``execute``: run a notebook in a kernel on either ISA and record it
- ``__main__``: ``python -m autograder.arm64`` (``make test-arm64``)
"""
