"""Integrity probes: proof that each test cell really ran, in an environment the student's code left alone.

A student's code shares the kernel with the tests, so it can try to make failing tests look passed: replace
``numpy.testing``'s asserts or builtins, patch IPython's ``run_cell`` or hide tracebacks. Before executing,
the grader adds one line to every test cell that prints a fresh random token (unknown to the student's code)
together with a check of those objects; it runs only if the test's asserts before it passed. A test cell
that shows no error yet did not print its token did not run to the end; one whose check names a replaced
object ran against forged checks: either way it scores 0 and the submission is flagged. A final canary cell
that must fail proves errors are still reported. Scores are computed from the outputs afterwards by the
grader, outside the sandbox; the probes' lines and cells are removed first.
"""
from __future__ import annotations

import ast
import json
import secrets
from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils

from ..labs import grade_id

# Runs inside the kernel with TOKEN bound; prints TOKEN and the names of replaced checking machinery.
_CHECK = '''
import builtins as _b, sys as _s, json as _j
_bad = []
for _n in ("print", "len", "abs", "sum", "min", "max", "round", "isinstance", "all", "any", "sorted", "range",
           "exec", "eval", "__import__", "AssertionError", "Exception", "float", "int", "bool"):
    if type(getattr(_b, _n, None)).__name__ not in ("builtin_function_or_method", "type"):
        _bad.append("builtins." + _n)
_ip = get_ipython()
for _n in ("run_cell", "run_cell_async", "run_code", "run_ast_nodes", "showtraceback", "_showtraceback",
           "transform_cell"):
    _f = getattr(type(_ip), _n, None)
    if (getattr(getattr(_ip, _n, None), "__func__", None) is not _f
            or not getattr(_f, "__module__", "").startswith(("IPython.", "ipykernel."))):
        _bad.append("IPython." + _n)
if _ip.custom_exceptions:
    _bad.append("IPython custom exception handler")
for _m in ("numpy.testing", "math", "unittest"):
    _mod = _s.modules.get(_m)
    for _n in (dir(_mod) if _mod else ()):
        _f = getattr(_mod, _n, None)
        if _n.startswith(("assert", "isclose", "allclose")) and callable(_f):
            _home = (getattr(_f, "__module__", "") or "").split(".")[0]
            _code = getattr(_f, "__code__", None)
            _file = _code.co_filename if _code else ""
            _native = type(_f).__name__ == "builtin_function_or_method"
            if _home != _m.split(".")[0] or not _native and "site-packages" not in _file and "/lib/python" not in _file:
                _bad.append(_m + "." + _n)
_b.print(TOKEN + _j.dumps(_bad))
'''.strip()
INTEGRITY_ERROR = "GradingIntegrityError"


@dataclass
class Probes:
    """The tokens planted in one notebook, and the original sources to put back."""

    tokens: dict[int, str] = field(default_factory=dict)  # test cell index -> token
    sources: dict[int, str] = field(default_factory=dict)
    canary: str = ""
    added_cells: int = 0


def _with_proof(source: str, line: str) -> str:
    """The proof line goes last, or before a final expression whose value may give partial credit."""
    lines = source.rstrip("\n").split("\n")
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython syntax (magics): the proof goes last
        body = []
    if body and isinstance(body[-1], ast.Expr):
        at = body[-1].lineno - 1
        return "\n".join(lines[:at] + [line] + lines[at:])
    return "\n".join(lines + [line])


def is_test(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def plant(nb: NotebookNode) -> Probes:
    """Add the proof lines and the canary to ``nb`` (in place)."""
    probes = Probes()
    for index, cell in enumerate(nb.cells):
        if is_test(cell):
            token = "substrate-proof-" + secrets.token_hex(12)
            probes.tokens[index], probes.sources[index] = token, cell.source
            cell.source = _with_proof(cell.source, f"exec({_CHECK!r}, {{'TOKEN': {token!r}}})")
    if probes.tokens:
        probes.canary = "substrate-canary-" + secrets.token_hex(12)
        a, b = secrets.randbelow(10**6), 10**6 + secrets.randbelow(10**6)
        nb.cells.append(new_code_cell(f"assert {a} == {b}, {probes.canary!r}"))
        probes.added_cells = 1
    return probes


def _error(evalue: str) -> NotebookNode:
    return new_output("error", ename=INTEGRITY_ERROR, evalue=evalue, traceback=[f"{INTEGRITY_ERROR}: {evalue}"])


def _take_token(cell: NotebookNode, token: str) -> list[str] | None:
    """Remove the token's line from the cell's stdout; the replaced names it reported, None when absent."""
    found = None
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == "stdout" and token in output.text:
            kept = []
            for line in output.text.split("\n"):
                if line.startswith(token):
                    found = json.loads(line[len(token):] or "[]")
                else:
                    kept.append(line)
            output.text = "\n".join(kept)
    cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.text == "")]
    return found


def _has_error(cell: NotebookNode) -> bool:
    return any(o.output_type == "error" for o in cell.outputs)


def check(nb: NotebookNode, probes: Probes) -> list[str]:
    """Verify and remove the probes (in place); zero tampered test cells; return what was found."""
    findings: list[str] = []
    canary = nb.cells[-1] if probes.added_cells else None
    del nb.cells[len(nb.cells) - probes.added_cells:]
    replaced: set[str] = set()
    for index, token in probes.tokens.items():
        cell = nb.cells[index]
        cell.source = probes.sources[index]
        names = _take_token(cell, token)
        if names:
            replaced.update(names)
            cell.outputs.append(_error("this test ran against checking code the notebook replaced: "
                                       + ", ".join(sorted(names))))
        elif names is None and cell.get("execution_count") and not _has_error(cell):
            findings.append(f"test cell '{grade_id(cell)}' reported success without running to the end")
            cell.outputs.append(_error("this test did not run to the end yet reported no error: the notebook "
                                       "interferes with how cells run"))
    if replaced:
        findings.append("the notebook replaced checking code: " + ", ".join(sorted(replaced)))
    if canary is not None and canary.get("execution_count"):  # not when the kernel died before it
        shown = [o for o in canary.outputs if o.output_type == "error" and probes.canary in o.get("evalue", "")]
        if not shown:
            findings.append("a failing check was reported as passed: the notebook hides errors")
            for index in probes.tokens:
                if not _has_error(nb.cells[index]):
                    nb.cells[index].outputs.append(_error("errors were hidden in this notebook: no test counts"))
    return findings
