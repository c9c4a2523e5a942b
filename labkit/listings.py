"""Read compiler assembly listings (x86-64 AT&T syntax and AArch64): functions, loops, SIMD lanes.

Lab 03 grades the analysis of *shipped* listings, so everything here is plain text processing: the same
answers on any machine. Loops are found from the control-flow graph (blocks that can reach each other), not from
the compiler's comments, which many listings do not carry.

``fp_lanes`` and ``loop_profile`` are the reference versions of two lab tasks (see ``labkit.grading.TWINS``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LABEL = re.compile(r"^\s*([.\w$]+):")
_X86_BITS = {"xmm": 128, "ymm": 256, "zmm": 512}
_X86_ELEMENT_BITS = {"ps": 32, "pd": 64, "ph": 16}
_X86_FP = re.compile(r"^v?(add|sub|mul|div|min|max|sqrt|f(?:n)?m(?:add|sub)(?:132|213|231))(ps|pd|ph|ss|sd|sh)$")
_ARM_FP = {"fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fminnm", "fmaxnm", "fsqrt", "fabs", "fneg", "faddp",
           "fmla", "fmls", "fmadd", "fmsub", "fnmadd", "fnmsub"}
_ARM_FMA = {"fmla", "fmls", "fmadd", "fmsub", "fnmadd", "fnmsub"}
_ARM_VECTOR = re.compile(r"^v\d+\.(\d+)[bhsd]$")
_ARM_SCALAR = re.compile(r"^[hsd]\d+$")
_ARM_CONDITIONAL = re.compile(r"^(b\.\w+|cbn?z|tbn?z)$")


def is_x86(instruction: str) -> bool:
    """AT&T x86-64 syntax writes every register with ``%``; AArch64 never does."""
    return "%" in instruction


def _split(instruction: str) -> tuple[str, list[str]]:
    mnemonic, _, rest = re.sub(r"\s+", " ", instruction.strip()).partition(" ")
    operands = [op.strip() for op in re.split(r",(?![^(\[{]*[)\]}])", rest.strip())] if rest.strip() else []
    return mnemonic.lower(), operands


def fp_lanes(instruction: str) -> int:
    """Elements one floating-point arithmetic instruction computes: 1 if scalar, 0 if not FP arithmetic."""
    mnemonic, operands = _split(instruction)
    if not operands:
        return 0
    if is_x86(instruction):
        match = _X86_FP.match(mnemonic)
        if not match:
            return 0
        suffix = match.group(2)
        if suffix not in _X86_ELEMENT_BITS:
            return 1
        register = re.match(r"%([xyz]mm)\d+", operands[-1])
        if not register:
            raise ValueError(f"packed instruction without a vector destination: {instruction!r}")
        return _X86_BITS[register.group(1)] // _X86_ELEMENT_BITS[suffix]
    if mnemonic not in _ARM_FP:
        return 0
    destination = operands[0].lower()
    vector = _ARM_VECTOR.match(destination)
    if vector:
        return int(vector.group(1))
    if _ARM_SCALAR.match(destination):
        return 1
    raise ValueError(f"unrecognised destination {destination!r} in {instruction!r}")


def _is_fma(mnemonic: str) -> bool:
    return mnemonic in _ARM_FMA or bool(re.match(r"^v?f(n)?m(add|sub)(132|213|231)", mnemonic))


def loop_profile(instructions: list[str]) -> dict[str, int]:
    """Counts over one loop body: instructions, FP instructions, vector FP instructions, widest lanes, flops.

    flops counts every lane of an FP instruction once, and twice for a fused multiply-add.
    """
    profile = {"instructions": 0, "fp_instructions": 0, "vector_fp_instructions": 0, "max_lanes": 0, "flops": 0}
    for instruction in instructions:
        profile["instructions"] += 1
        lanes = fp_lanes(instruction)
        if lanes == 0:
            continue
        profile["fp_instructions"] += 1
        profile["vector_fp_instructions"] += lanes > 1
        profile["max_lanes"] = max(profile["max_lanes"], lanes)
        profile["flops"] += lanes * (2 if _is_fma(_split(instruction)[0]) else 1)
    return profile


# -- listing structure -------------------------------------------------------------------------------------

def _statements(lines: list[str], comment: str) -> list[str]:
    """Labels and instructions, without directives, comments (``comment`` to end of line) or blank lines."""
    kept = []
    for raw in lines:
        line = raw.split(comment)[0].strip()
        if line and not (line.startswith(".") and not _LABEL.match(line)):
            kept.append(line)
    return kept


def functions(text: str) -> dict[str, list[str]]:
    """Function name -> its labels and instructions, for every function a listing defines.

    A function starts at a label that is not local (``.L``) and is named by a ``.type`` or ``.globl`` line or
    at least followed by instructions; it ends at the next such label or ``.Lfunc_end``.
    """
    # AT&T x86 comments start with '#' (immediates are '$16'); AArch64 ones with '//' (immediates are '#16').
    comment = "#" if re.search(r"%[re]?[a-z]{1,2}\b|%[xyz]mm", text) else "//"
    result: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        label = _LABEL.match(raw)
        if label and not label.group(1).startswith("."):
            current = label.group(1)
            result[current] = []
            continue
        if label and label.group(1).startswith(".Lfunc_end"):
            current = None
            continue
        if current is not None:
            result[current].extend(_statements([raw], comment))
    return {name: body for name, body in result.items() if any(not _LABEL.match(s) for s in body)}


@dataclass(frozen=True)
class Block:
    label: str
    instructions: tuple[str, ...]


@dataclass(frozen=True)
class Loop:
    """A loop: the label of its first block in the listing, its blocks' labels, its instructions in order."""

    header: str
    labels: tuple[str, ...]
    instructions: tuple[str, ...]


def _branch(instruction: str) -> tuple[str | None, bool]:
    """(target label or None, whether control can fall through to the next instruction)."""
    mnemonic, operands = _split(instruction)
    if is_x86(instruction) or mnemonic.startswith("j") or mnemonic in {"ret", "retq"}:
        if mnemonic in {"ret", "retq", "ud2"}:
            return None, False
        if mnemonic.startswith("j"):
            target = operands[-1] if operands and not operands[-1].startswith("*") else None
            return target, mnemonic not in {"jmp", "jmpq"}
        return None, True
    if mnemonic in {"ret", "br", "brk"}:
        return None, False
    if mnemonic == "b":
        return operands[0], False
    if _ARM_CONDITIONAL.match(mnemonic):
        return operands[-1], True
    return None, True


def blocks(body: list[str]) -> list[Block]:
    """Basic blocks of one function body: split at labels and after every branch or return."""
    result: list[Block] = []
    label, current = "<entry>", []
    for statement in body:
        found = _LABEL.match(statement)
        if found:
            if current or label == "<entry>":
                result.append(Block(label, tuple(current)))
            label, current = found.group(1), []
            continue
        current.append(statement)
        target, falls = _branch(statement)
        if target is not None or not falls:
            result.append(Block(label, tuple(current)))
            label, current = f"<after {label}>", []
    if current:
        result.append(Block(label, tuple(current)))
    return [b for b in result if b.instructions or b.label.startswith(".")]


def _successors(blocks_: list[Block]) -> list[set[int]]:
    index = {b.label: i for i, b in enumerate(blocks_)}
    successors = []
    for i, block in enumerate(blocks_):
        targets: set[int] = set()
        falls = True
        if block.instructions:
            target, falls = _branch(block.instructions[-1])
            if target in index:
                targets.add(index[target])
        if falls and i + 1 < len(blocks_):
            targets.add(i + 1)
        successors.append(targets)
    return successors


def _cycles(successors: dict[int, set[int]]) -> list[list[int]]:
    """Strongly connected components that contain a cycle (Tarjan), each as sorted block indices."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[list[int]] = []

    def visit(v: int) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in successors[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in successors[v]:
                found.append(sorted(component))

    for v in sorted(successors):
        if v not in index:
            visit(v)
    return found


def _innermost(successors: dict[int, set[int]], predecessors: list[set[int]]) -> list[list[int]]:
    """Innermost cycles: in each component, cut the edges back into its entry blocks and look again inside."""
    result = []
    for component in _cycles(successors):
        members = set(component)
        entries = {v for v in component if predecessors[v] - members} or {component[0]}
        inside = {v: {w for w in successors[v] if w in members and w not in entries} for v in component}
        result.extend(_innermost(inside, predecessors) or [component])
    return result


def loops(body: list[str]) -> list[Loop]:
    """The innermost loops of one function body, in listing order, each with its instructions in order.

    A loop is a set of blocks that can all reach each other (a strongly connected component of the control
    flow graph); inside one, the edges back to its entry blocks are cut and the search repeats, so a nested
    loop gives its inner loops. Unlike natural-loop detection this also finds the rotated loops compilers emit
    with two entry points (a remainder loop entered at its top and in its middle).
    """
    blocks_ = blocks(body)
    successors = dict(enumerate(_successors(blocks_)))
    predecessors: list[set[int]] = [set() for _ in blocks_]
    for v, targets in successors.items():
        for w in targets:
            predecessors[w].add(v)
    result = [Loop(blocks_[c[0]].label, tuple(blocks_[i].label for i in c),
                   tuple(ins for i in c for ins in blocks_[i].instructions))
              for c in _innermost(successors, predecessors)]
    return sorted(result, key=lambda loop: [b.label for b in blocks_].index(loop.header))


def read_listing(path: str | Path) -> dict[str, list[str]]:
    """The functions of one listing file (see ``functions``); a clear error if it holds none."""
    path = Path(path)
    found = functions(path.read_text())
    if not found:
        raise ValueError(f"{path} holds no function: is it an assembly listing?")
    return found
