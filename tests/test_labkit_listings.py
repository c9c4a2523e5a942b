"""labkit.listings: functions, loops and SIMD lanes of assembly listings, on both ISAs."""
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.listings import fp_lanes, functions, loop_profile, loops, read_listing

LAB = Path(__file__).resolve().parents[1] / "labs" / "03-vectorisation-simd"
LISTINGS = LAB / "listings"
SHIPPED = sorted(LISTINGS.glob("*.s"))


@pytest.mark.parametrize("instruction, lanes", [
    ("vaddpd\t(%rcx,%r8,8), %ymm0, %ymm0", 4),      # packed double, 256-bit destination
    ("vfmadd213ps\t64(%rcx,%r9,4), %zmm1, %zmm3", 16),
    ("vmulps\t%xmm1, %xmm2, %xmm3", 4),
    ("vaddsd\t%xmm1, %xmm0, %xmm0", 1),            # scalar double in a vector register
    ("vfmadd213ss\t(%rcx,%r8,4), %xmm0, %xmm1", 1),
    ("vmovups\t%zmm2, (%rcx,%r9,4)", 0),           # a move is not arithmetic
    ("addq\t$16, %r8", 0),                          # integer add
    ("fadd\tv1.2d, v3.2d, v1.2d", 2),
    ("fmla\tv0.4s, v1.4s, v2.4s", 4),
    ("fadd\td0, d1, d0", 1),
    ("faddp\td0, v0.2d", 1),                        # pairwise add into a scalar: one result
    ("fmul\tv0.8h, v1.8h, v2.8h", 8),
    ("ldp\tq2, q3, [x9, #-16]", 0),
    ("add\tx9, x9, #32", 0),
])
def test_fp_lanes_counts_results_of_fp_arithmetic_only(instruction, lanes):
    assert fp_lanes(instruction) == lanes


def test_loop_profile_counts_fma_twice():
    profile = loop_profile(["vmovups\t(%rdx,%r9,4), %ymm2", "vfmadd213ps\t(%rcx,%r9,4), %ymm1, %ymm2",
                            "vaddss\t%xmm1, %xmm0, %xmm0", "addq\t$8, %r9", "jne\t.LBB0_12"])
    assert profile == {"instructions": 5, "fp_instructions": 2, "vector_fp_instructions": 1, "max_lanes": 8,
                       "flops": 2 * 8 + 1}


X86 = """\
kernel:                                 # the function
\tjle\t.LBB0_1
\tjmp\t.LBB0_4
.LBB0_1:
\tretq
.LBB0_8:                                # a vector loop
\tvaddpd\t(%rcx,%r8,8), %ymm0, %ymm0
\taddq\t$4, %r8
\tjne\t.LBB0_8
\tje\t.LBB0_1                           # backwards, but not a loop
\tjmp\t.LBB0_14
.LBB0_4:                                # a rotated loop entered at the top and in the middle
\tvaddsd\t(%rcx,%rdx,8), %xmm0, %xmm0
.LBB0_14:
\tcmpq\t%rdx, %rax
\tjne\t.LBB0_4
\tretq
.Lfunc_end0:
other:
\tretq
"""

ARM = """\
kernel:
\tcmp\tx7, #4                  // '#' is an immediate here, not a comment
\tb.hs\t.LBB0_5
\tb\t.LBB0_8
.LBB0_5:
\tfadd\tv0.2d, v2.2d, v0.2d
\tsubs\tx10, x10, #4
\tb.ne\t.LBB0_5
\tcbz\tx9, .LBB0_9
.LBB0_8:
\tfadd\td0, d1, d0
\tbl\tNRT_incref               // a call, not a branch
\tsubs\tx9, x9, #1
\tb.ne\t.LBB0_8
.LBB0_9:
\tret
"""


def test_functions_split_a_listing_and_drop_comments():
    found = functions(X86)
    assert list(found) == ["kernel", "other"]
    assert all("#" not in line for line in found["kernel"])
    arm = functions(ARM)["kernel"]
    assert "cmp\tx7, #4" in arm and not any("//" in line for line in arm)


def test_loops_are_cycles_of_the_control_flow_graph():
    found = loops(functions(X86)["kernel"])
    assert [loop.labels for loop in found] == [(".LBB0_8",), (".LBB0_4", ".LBB0_14")]
    assert [loop_profile(list(loop.instructions))["max_lanes"] for loop in found] == [4, 1]


def test_loops_on_aarch64_ignore_calls_and_follow_compare_and_branch():
    found = loops(functions(ARM)["kernel"])
    assert [loop.header for loop in found] == [".LBB0_5", ".LBB0_8"]
    assert found[1].instructions[-1].startswith("b.ne")


def test_reading_something_that_is_not_a_listing_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.s"
    path.write_text("just some words\n")
    with pytest.raises(ValueError, match="holds no function"):
        read_listing(path)


# -- the shipped listings ----------------------------------------------------------------------------------

REGISTER_BITS = {"avx2": 256, "avx512": 256, "avx512zmm": 512, "neon": 128}  # what each target is meant to show


def _kernel_loops(path: Path):
    (body,) = read_listing(path).values()
    return [loop_profile(list(loop.instructions)) for loop in loops(body)]


def test_shipped_listings_cover_every_kernel_on_every_target():
    names = {p.name for p in SHIPPED}
    kernels = {n.split(".")[0] for n in names}
    assert kernels == {"sum_strict", "sum_fast", "axpy"}
    assert names == {f"{k}.{t}.s" for k in kernels for t in REGISTER_BITS}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_listing_shows_the_register_width_of_its_target(path):
    kernel, target = path.stem.split(".")
    profiles = _kernel_loops(path)
    assert profiles, f"{path.name}: no loop found"
    widest = max(p["max_lanes"] for p in profiles)
    if kernel == "sum_strict":  # IEEE order: no reassociation, so no vector additions at all
        assert widest == 1
    else:
        element_bits = 64 if kernel.startswith("sum") else 32
        assert widest == REGISTER_BITS[target] // element_bits
        assert any(p["max_lanes"] == 1 for p in profiles), "a scalar remainder loop is expected"


def test_shipped_listings_match_their_manifest():
    manifest = dict(reversed(line.split("  ")) for line in (LISTINGS / "MANIFEST.sha256").read_text().splitlines())
    assert set(manifest) == {p.name for p in SHIPPED}
    for path in SHIPPED:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest[path.name], f"{path.name} was edited"


def test_regenerating_reproduces_the_shipped_listings(tmp_path):
    import llvmlite
    import numba

    readme = (LISTINGS / "README.md").read_text()
    recorded = re.search(r"Numba (\S+) .*?llvmlite (\S+)", readme, re.S).groups()
    if recorded != (numba.__version__, llvmlite.__version__):
        pytest.skip(f"listings were made with numba/llvmlite {recorded}, this environment has "
                    f"{numba.__version__}/{llvmlite.__version__}: byte equality is only promised for the same")
    for name in ("simd_kernels.py", "regenerate_listings.py"):
        shutil.copy(LAB / name, tmp_path / name)
    subprocess.run([sys.executable, "regenerate_listings.py"], cwd=tmp_path, check=True, capture_output=True)
    for path in SHIPPED + [LISTINGS / "README.md", LISTINGS / "MANIFEST.sha256"]:
        assert (tmp_path / "listings" / path.name).read_text() == path.read_text(), path.name


NESTED = """\
kernel:
\txorl\t%eax, %eax
.LBB0_1:                                # outer loop
\txorl\t%ecx, %ecx
.LBB0_2:                                # inner loop
\tvaddpd\t(%rdi,%rcx,8), %ymm0, %ymm0
\taddq\t$4, %rcx
\tcmpq\t%rcx, %rsi
\tjne\t.LBB0_2
\tincq\t%rax
\tcmpq\t%rax, %rdx
\tjne\t.LBB0_1
\tretq
"""


def test_a_nested_loop_gives_its_inner_loop():
    (inner,) = loops(functions(NESTED)["kernel"])
    assert inner.labels == (".LBB0_2",) and inner.instructions[0].startswith("vaddpd")
