"""Regenerate the shipped assembly listings of lab 03: real LLVM output for four CPUs, not hand-written.

    python regenerate_listings.py            # from this folder, in the course environment

Numba compiles each kernel of simd_kernels.py to LLVM IR without optimising it (NUMBA_OPT=0); llvmlite,
Numba's own LLVM, then optimises that IR at -O3 for each target of labkit.simd.TARGETS and prints the
assembly. Only the kernel's own function is kept. README.md records the versions and this command;
MANIFEST.sha256 lets tests notice a listing edited by hand. The same versions give the same bytes.
"""
import hashlib
import os
import sys
from pathlib import Path

os.environ["NUMBA_OPT"] = "0"  # must precede Numba's import: its configuration is read once

import llvmlite  # noqa: E402
import llvmlite.binding as llvm  # noqa: E402
import numba  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from simd_kernels import KERNELS  # noqa: E402

from labkit.simd import TARGETS, cross_compile, function_text  # noqa: E402

OUT = HERE / "listings"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    llvm_version = ".".join(map(str, llvm.llvm_version_info))
    rows, sums = [], []
    for kernel_name, kernel in KERNELS.items():
        signature = kernel.signatures[0]
        ir = kernel.inspect_llvm(signature)
        symbol = kernel.overloads[signature].fndesc.mangled_name
        for target in TARGETS:
            comment = "#" if target.triple.startswith("x86_64") else "//"
            text = (f"{comment} {kernel_name} for {target.name}: {target.description}\n"
                    f"{comment} llc-style target: {target.triple} -mcpu={target.cpu}"
                    f"{' -mattr=' + target.features if target.features else ''}; numba {numba.__version__}, "
                    f"llvmlite {llvmlite.__version__} (LLVM {llvm_version}); made by regenerate_listings.py\n"
                    + function_text(cross_compile(ir, target), symbol))
            path = OUT / f"{kernel_name}.{target.name}.s"
            path.write_text(text)
            sums.append(f"{hashlib.sha256(text.encode()).hexdigest()}  {path.name}")
            rows.append(f"| `{path.name}` | `{kernel_name}` | {target.triple} | `{target.cpu}` "
                        f"| `{target.features or '(none)'}` | {target.description} |")
    (OUT / "MANIFEST.sha256").write_text("\n".join(sums) + "\n")
    (OUT / "README.md").write_text(README.format(numba=numba.__version__, llvmlite=llvmlite.__version__,
                                                 llvm=llvm_version, rows="\n".join(rows)))
    print(f"wrote {len(sums)} listings to {OUT}")


README = """# Assembly listings of lab 03 (generated: do not edit by hand)

Real compiler output: the kernels of `../simd_kernels.py`, compiled by Numba {numba} to LLVM IR without
optimisation (`NUMBA_OPT=0`), then optimised at -O3 and turned into assembly for each CPU below by
llvmlite {llvmlite} (LLVM {llvm}), Numba's own backend. Only each kernel's function is kept (call-frame
`.cfi` directives dropped). x86-64 listings use AT&T syntax (`%` registers, destination last); AArch64
listings put the destination first.

Regenerate (from `labs/03-vectorisation-simd/`, in the course environment):

    python regenerate_listings.py

The same Numba and llvmlite versions reproduce these files byte for byte (`MANIFEST.sha256`; a test checks
both). Other versions may unroll or schedule differently; the lab's graded answers are about these files.

| file | kernel | triple | cpu | features | what it stands for |
|---|---|---|---|---|---|
{rows}
"""

if __name__ == "__main__":
    main()
