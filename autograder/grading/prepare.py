"""Stage 1, in the grader: turn one collected submission into a :class:`Payload` a sandbox can execute.

The notebooks go through nbgrader's own sanitising preprocessors (clear outputs, restore the test and locked
cells from the gradebook, fix the kernelspec, check the metadata), exactly as ``nbgrader autograde`` does
before it executes, so pre-filled (forged) outputs and edited tests are gone before any student code runs.
Other files travel as bytes; symlinks never travel (a link to ``source/`` would otherwise carry solutions
into the sandbox). Nothing in ``submitted/`` is modified.
"""
from __future__ import annotations

import base64
import contextlib
import fnmatch
import io
import logging
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import jsonschema
import nbformat
from nbgrader.converters import Autograde
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

from ..course.workspace import Workspace
from .execute import Payload
from .integrity import check_submission
from .sandbox import Limits, MiB

MAX_SUBMISSION_BYTES = 50 * MiB


@dataclass(frozen=True)
class Settings:
    """How the engine grades; the per-cell limit comes from the course (``c.Execute.timeout``)."""

    cell_timeout: float = 30.0
    wall_factor: float = 10.0
    cpu_budget: float = 600.0
    max_output_bytes: int = 2 * MiB
    limits: Limits = Limits()


class Unfit(Exception):
    """The submission cannot be graded as it is; the message is for the student's report."""


def settings_from_course(workspace: Workspace, **overrides) -> Settings:
    timeout = workspace.config().Execute.get("timeout", 30)
    return Settings(cell_timeout=float(timeout if timeout is not None else 30), **overrides)


def _sanitise(workspace: Workspace, config, path: Path, assignment: str, student: str, log: logging.Logger
              ) -> str:
    resources = {"unique_key": path.stem, "nbgrader": {"student": student, "assignment": assignment,
                                                       "notebook": path.stem, "db_url": workspace.db_url}}
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    steps = (config.Autograde.get("sanitize_preprocessors")
             or Autograde.class_traits()["sanitize_preprocessors"].default())
    for preprocessor in steps:
        step = CheckMetadataOnce if preprocessor is CheckCellMetadata else preprocessor
        nb, resources = step(config=config, log=log)(nb, resources)
    return nbformat.writes(nb)


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's per-cell schema validation with the schema itself checked once, not once per cell (that
    check was a tenth of the grader's CPU); a cell of another schema version gets nbgrader's own error."""

    def validate_cell(self, cell) -> None:
        metadata = cell.metadata.get("nbgrader")
        if metadata is None or metadata.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)
        if self.schema_version not in _SCHEMAS:
            cls = jsonschema.validators.validator_for(self.schema)
            cls.check_schema(self.schema)
            _SCHEMAS[self.schema_version] = cls(self.schema)
        error = jsonschema.exceptions.best_match(_SCHEMAS[self.schema_version].iter_errors(metadata))
        if error is not None:
            raise error


_SCHEMAS: dict[int, jsonschema.protocols.Validator] = {}


class _MetadataValidator(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's validator (its checks of grade ids, points and cell types) over the schema checked once."""


class CheckMetadataOnce(CheckCellMetadata):
    """nbgrader's CheckCellMetadata, with :class:`_MetadataValidator`."""

    def preprocess(self, nb, resources):
        try:
            _MetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.") from None
        return nb, resources


@contextlib.contextmanager
def _captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger whose messages (an edited test cell, a re-inserted missing one) go to the submission's
    log, as nbgrader autograde would print them."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    log = logging.getLogger("substrate-labs.prepare")  # one submission at a time: the grader is one thread
    log.propagate, log.level = False, logging.INFO
    log.addHandler(handler)
    try:
        yield log, text
    finally:
        log.removeHandler(handler)


def _files(folder: Path, ignore: list[str], skip: set[str]) -> tuple[dict[str, bytes], list[str]]:
    files, notes = {}, []
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            notes.append(f"{name} is a symbolic link; it was not given to the notebook")
        elif path.is_file() and name not in skip and not any(fnmatch.fnmatch(path.name, p) for p in ignore):
            files[name] = path.read_bytes()
    return files, notes


@dataclass
class Prepared:
    payload: Payload
    notes: list[str]  # for the report
    log: str          # nbgrader's sanitising messages, for the submission's log


def payload(workspace: Workspace, config, assignment: str, student: str, settings: Settings) -> Prepared:
    """The payload, the notes an instructor should see and the log; raises :class:`Unfit`."""
    submitted = workspace.course / "submitted" / student / assignment
    source = workspace.course / "source" / assignment
    findings = check_submission(submitted, source)
    if findings.fatal:
        raise Unfit("; ".join(findings.fatal))
    names = sorted(p.name for p in source.glob("*.ipynb") if (submitted / p.name).is_file()
                   and not (submitted / p.name).is_symlink())
    if not names:
        raise Unfit(f"no notebook of the lab ({', '.join(p.name for p in source.glob('*.ipynb'))}) is in the "
                    "submission (renamed?); the student should submit it under its original name")
    ignore = list(config.CourseDirectory.get("ignore", [".ipynb_checkpoints", "*.pyc", "__pycache__",
                                                          "feedback"]))
    files, notes = _files(submitted, ignore, set(names))
    # nbgrader overwrites the student's copies of the lab's other files with the source versions
    source_files, _ = _files(source, ignore, {p.name for p in source.glob("*.ipynb")})
    files.update(source_files)
    if sum(map(len, files.values())) > MAX_SUBMISSION_BYTES:
        raise Unfit(f"the submission's files exceed {MAX_SUBMISSION_BYTES // MiB} MiB")
    with _captured() as (log, text):
        try:
            notebooks = {name: _sanitise(workspace, config, submitted / name, assignment, student, log)
                         for name in names}
        except Exception as error:  # nbgrader's checks raise on metadata they cannot use; the student is told
            raise Unfit(f"nbgrader cannot use this notebook ({str(error).splitlines()[0][:200]})") from None
    return Prepared(Payload(assignment, student, notebooks,
                            files={k: base64.b64encode(v).decode() for k, v in files.items()},
                            cell_timeout=settings.cell_timeout, wall_factor=settings.wall_factor,
                            cpu_budget=settings.cpu_budget, max_output_bytes=settings.max_output_bytes,
                            limits=asdict(settings.limits)), findings.notes + notes, text.getvalue())
