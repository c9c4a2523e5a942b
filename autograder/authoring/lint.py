"""The lab linter: every rule of docs/authoring-labs.md that can be checked without running the notebook."""
from __future__ import annotations

import ast
import json
import re
from collections import Counter

import yaml
from nbformat import NotebookNode
from nbgrader import utils

from labkit.grading import TWINS

from ..labs import Lab, grade_id, is_answer, is_test, task_cells

MIN_AUTOGRADED_TASKS = 4
MIN_WRONG_ANSWERS = 3
NBGRADER_KEYS = {"schema_version", "grade", "solution", "locked", "grade_id", "points"}
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
DELEGATION_WHY = "delegates to labkit"
Twins = dict[str, tuple[str, ...]]


def _metadata_problems(index: int, cell: NotebookNode) -> list[str]:
    meta = cell.metadata.get("nbgrader")
    if meta is None:
        return []
    where = f"cell {index}"
    problems = []
    if meta.get("schema_version") != 3:
        problems.append(f"{where}: nbgrader schema_version must be 3, found {meta.get('schema_version')!r}")
    extra = set(meta) - NBGRADER_KEYS
    if extra:
        problems.append(f"{where}: unexpected nbgrader keys {sorted(extra)}")
    for key in ("grade", "solution", "locked"):
        if not isinstance(meta.get(key), bool):
            problems.append(f"{where}: nbgrader '{key}' must be true or false")
    if any(meta.get(k) for k in ("grade", "solution", "locked")) and not meta.get("grade_id"):
        problems.append(f"{where}: a grade, solution or locked cell needs a grade_id")
    if meta.get("grade"):
        points = meta.get("points")
        if not isinstance(points, (int, float)) or points <= 0:
            problems.append(f"{where} ({meta.get('grade_id')}): points must be a number > 0, found {points!r}")
    return problems


def _cell_id_problems(raw: dict) -> list[str]:
    """Translations, per-student variants and similarity reports key on cell ids, so every cell has its own.
    Checked on the file's JSON: nbformat silently renumbers duplicate ids when it reads a notebook."""
    if (raw.get("nbformat"), raw.get("nbformat_minor")) < (4, 5):
        return [f"store the notebook as nbformat 4.5 or later (found {raw.get('nbformat')}."
                f"{raw.get('nbformat_minor')}): cells need ids"]
    cells = raw.get("cells", [])
    ids = Counter(c.get("id") for c in cells)
    problems = [f"cell {i} has no id" for i, c in enumerate(cells) if not c.get("id")]
    return problems + [f"cell id {cid!r} is used {n} times" for cid, n in ids.items() if cid and n > 1]


def _structure_problems(nb: NotebookNode) -> list[str]:
    problems = []
    ids = Counter(grade_id(c) for c in nb.cells if grade_id(c))
    problems += [f"grade_id {gid!r} is used {n} times" for gid, n in ids.items() if n > 1]
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for (i, cell), nxt in zip(code, code[1:] + [(None, None)], strict=True):
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"cell {i}: stored outputs or execution count (store notebooks clean)")
        if is_answer(cell) and (nxt[1] is None or not is_test(nxt[1])):
            problems.append(f"cell {i} ({grade_id(cell)}): an answer cell must be followed by its test cell")
    grouped = {i for tests in task_cells(nb).values() for i in tests}
    for i, cell in enumerate(nb.cells):
        if is_test(cell) and i not in grouped:
            problems.append(f"cell {i} ({grade_id(cell)}): a test cell must come right after an answer cell")
        if is_test(cell) and (HIDDEN_BEGIN not in cell.source or HIDDEN_END not in cell.source):
            problems.append(f"cell {i} ({grade_id(cell)}): a test cell needs a hidden-test block")
    if len(task_cells(nb)) < MIN_AUTOGRADED_TASKS:
        problems.append(f"needs at least {MIN_AUTOGRADED_TASKS} autograded tasks, found {len(task_cells(nb))}")
    if not any(c.cell_type == "markdown" and utils.is_grade(c) and utils.is_solution(c) for c in nb.cells):
        problems.append("needs at least one manually graded written question (markdown solution + grade)")
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    if not markdown or not re.search(r"^#+\s*Learning objectives", markdown[0], re.M | re.I):
        problems.append("the first cell must state the learning objectives ('## Learning objectives')")
    tail = "\n".join(markdown[-3:])
    for heading in ("Summary", "References"):
        if not re.search(rf"^#+\s*{heading}", tail, re.M):
            problems.append(f"the notebook must end with a '## {heading}' section")
    if not any(c.cell_type == "code" and "xlabel" in c.source and "ylabel" in c.source for c in nb.cells):
        problems.append("needs at least one figure with labelled axes (xlabel and ylabel)")
    return problems


def _statements(source: str) -> list[ast.stmt]:
    try:
        return ast.parse(source).body
    except SyntaxError:
        return []


def _called_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def _has_visible_check(visible: str) -> bool:
    """An assert, or a call of a check_* helper, before the hidden block."""
    for node in ast.walk(ast.Module(body=_statements(visible), type_ignores=[])):
        if isinstance(node, ast.Assert) or (isinstance(node, ast.Call) and (_called_name(node) or "").startswith(
                "check_")):
            return True
    return False


def _forbids(source: str) -> str | None:
    """The task named by a leading ``forbid_twins("task")`` statement, if the cell starts with one."""
    body = _statements(source)
    if body and _called_name(body[0]) == "forbid_twins":
        args = body[0].value.args
        if len(args) == 1 and isinstance(args[0], ast.Constant):
            return args[0].value
    return None


def _v2_problems(nb: NotebookNode, twins: Twins) -> list[str]:
    """Lab standard v2: partial credit over several test cells, visible checks first, twins forbidden."""
    problems = []
    for answer, tests in task_cells(nb).items():
        task = grade_id(nb.cells[answer])
        ids = [grade_id(nb.cells[i]) for i in tests]
        points = sum(nb.cells[i].metadata["nbgrader"].get("points") or 0 for i in tests)
        if points > 1 and len(tests) < 2:
            problems.append(f"task {task!r} is worth {points:g} points: split them over at least two test cells "
                            f"({task}_test for the core behaviour, then {task}_test_edges, ...)")
        if ids and (ids[0] != f"{task}_test" or any(not (i or "").startswith(f"{task}_test_") for i in ids[1:])):
            problems.append(f"task {task!r}: test cells must be named {task}_test, then {task}_test_<what> "
                            f"(found {', '.join(map(str, ids))})")
        for i in tests:
            source = nb.cells[i].source
            if not _has_visible_check(source.split(HIDDEN_BEGIN)[0]):
                problems.append(f"cell {i} ({grade_id(nb.cells[i])}): needs a visible check (an assert or a "
                                f"check_* call) before {HIDDEN_BEGIN}")
            forbidden = _forbids(source)
            if task in twins and forbidden != task:
                problems.append(f"cell {i} ({grade_id(nb.cells[i])}): labkit has twins of {task!r} "
                                f"({', '.join(twins[task])}); the first line must be forbid_twins({task!r})")
            if forbidden is not None and forbidden not in twins:
                problems.append(f"cell {i} ({grade_id(nb.cells[i])}): forbid_twins({forbidden!r}) names a task "
                                f"that labkit.grading.TWINS does not list")
    return problems


def _wrong_answer_problems(lab: Lab, nb: NotebookNode, twins: Twins) -> list[str]:
    if not lab.wrong_answers.exists():
        return [f"missing {lab.wrong_answers.name} (at least {MIN_WRONG_ANSWERS} wrong answers per task)"]
    try:
        entries = yaml.safe_load(lab.wrong_answers.read_text()) or {}
    except yaml.YAMLError as error:
        return [f"{lab.wrong_answers.name} is not valid YAML: {error}"]
    answers = {grade_id(nb.cells[i]) for i in task_cells(nb)}
    problems = [f"{lab.wrong_answers.name}: {gid!r} is not an answer cell's grade_id"
                for gid in entries if gid not in answers]
    for gid in sorted(answers):
        listed = entries.get(gid) or []
        if len(listed) < MIN_WRONG_ANSWERS:
            problems.append(f"{lab.wrong_answers.name}: {gid!r} has {len(listed)} wrong answers, "
                            f"needs at least {MIN_WRONG_ANSWERS}")
        for n, entry in enumerate(listed):
            if not isinstance(entry, dict) or not entry.get("why") or not entry.get("source"):
                problems.append(f"{lab.wrong_answers.name}: {gid!r} entry {n + 1} needs 'why' and 'source'")
        if gid in twins and not any(isinstance(e, dict) and str(e.get("why", "")).startswith(DELEGATION_WHY)
                                    for e in listed):
            problems.append(f"{lab.wrong_answers.name}: {gid!r} has labkit twins; add an entry whose why starts "
                            f"with {DELEGATION_WHY!r} (an answer that calls {twins[gid][0]})")
    return problems


def lint(lab: Lab, twins: Twins | None = None) -> list[str]:
    """Every problem found in one lab, as readable sentences; an empty list means the lab is clean.
    ``twins`` defaults to ``labkit.grading.TWINS`` (task grade_id -> labkit functions that do its job)."""
    twins = TWINS if twins is None else twins
    try:
        nb = lab.read()
    except Exception as error:  # a broken notebook is a finding, not a crash of the linter
        return [f"cannot read {lab.notebook.name}: {error}"]
    problems = _cell_id_problems(json.loads(lab.notebook.read_text()))
    problems += [p for i, c in enumerate(nb.cells) for p in _metadata_problems(i, c)]
    problems += _structure_problems(nb) + _v2_problems(nb, twins) + _wrong_answer_problems(lab, nb, twins)
    return [f"{lab.assignment_id}: {p}" for p in problems]
