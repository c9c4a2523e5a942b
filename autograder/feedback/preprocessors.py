"""nbgrader preprocessors the kit adds to nbgrader's own pipelines (loaded by the course's nbgrader_config.py)."""
from __future__ import annotations

import copy

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

TRACEBACK_NOTE = "(traceback hidden because this test cell contains hidden tests; re-run the visible checks to debug)"
PROVISIONAL_BANNER = ("**Provisional feedback: written answers not yet marked.** A person has not yet marked "
                      "the written answers below; they count 0 in the score shown here until they are marked, "
                      "and this feedback will be updated then.")
UNMARKED_NOTE = "**Not yet marked**: this written answer is still waiting for a person; its score below is not final."


class HideTestTracebacks(NbGraderPreprocessor):
    """Cut the traceback of a failed test cell to ``ename: evalue``.

    nbgrader's feedback shows tracebacks, and a traceback quotes the failing line of a hidden test (#1363).
    The exception's message stays: that is what a test author writes for the student to read.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int
                        ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
                    output.traceback = [message, TRACEBACK_NOTE]
        return cell, resources


class MarkUnmarkedAnswers(NbGraderPreprocessor):
    """Label feedback given before a person marked the written answers: a banner on top, a note on each.

    nbgrader's feedback shows an unmarked answer as "Score: 0.0 / 2.0" and a total that reads as final.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        waiting = set()
        with Gradebook(info["db_url"]) as gradebook:
            for cell in nb.cells:
                if utils.is_grade(cell):
                    try:
                        grade = gradebook.find_grade(cell.metadata.nbgrader["grade_id"], info["notebook"],
                                                     info["assignment"], info["student"])
                    except MissingEntry:
                        continue
                    if grade.needs_manual_grade:
                        waiting.add(cell.metadata.nbgrader["grade_id"])
        if waiting:
            cells = [new_markdown_cell(PROVISIONAL_BANNER)]
            for cell in nb.cells:
                if utils.is_grade(cell) and cell.metadata.nbgrader["grade_id"] in waiting:
                    cells.append(new_markdown_cell(UNMARKED_NOTE))
                cells.append(cell)
            nb.cells = cells
        resources["nbgrader"]["provisional"] = bool(waiting)
        return nb, resources


class QuietBenignChecksums(OverwriteCells):
    """nbgrader's OverwriteCells, minus the false alarm on test cells with hidden tests (nbgrader #1961).

    The gradebook holds a test cell with its hidden tests; the student's copy never had them, so its checksum
    always differs and nbgrader warns "Attribute 'checksum' ... has changed!" on every submission, which reads
    as tampering. Here the warning is kept only when the student's cell differs from what was released; either
    way the cell is restored from the gradebook, as nbgrader does.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
                        ) -> tuple[NotebookNode, ResourcesDict]:
        self._as_released = False
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is not None and utils.is_grade(cell):
            try:
                source = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except MissingEntry:
                pass
            else:
                released = copy.deepcopy(cell)
                released.source = source.source
                ClearHiddenTests(enforce_metadata=False).preprocess_cell(released, {}, cell_index)
                self._as_released = released.source.strip() == cell.source.strip()
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name: str, attr: str, old, new) -> None:
        if attr == "checksum" and self._as_released:
            self.log.debug("cell %s is the released version (hidden tests restored from the gradebook)", name)
            return
        if attr == "checksum":
            self.log.warning("Cell %s was edited by the student although it is locked; the original was restored "
                             "for grading (checksum should be: %s, got: %s)", name, old, new)
            return
        super().report_change(name, attr, old, new)
