"""nbgrader preprocessors the kit adds to nbgrader's own pipelines."""
from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

TRACEBACK_NOTE = "(traceback hidden because this test cell contains hidden tests; re-run the visible checks to debug)"


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
