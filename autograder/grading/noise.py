"""Library noise that must not cost a correct answer its points.

nbgrader scores a test cell 0 when it wrote anything to stderr, so a harmless warning from numpy or a log line
from ONNX Runtime zeroes a correct answer. The kit's decision: a test cell's stderr is ignored when it consists
*only* of Python warnings (``file:line: SomethingWarning: message`` and the source line Python prints under it)
and ONNX Runtime's log lines (``... [W:onnxruntime:...]``); any other stderr text (a test that reports a
failure on stderr, a student's own message) keeps nbgrader's rule and the cell scores 0. Errors are separate
outputs and always count. The pattern is nbgrader's own ``IgnorePattern``, set in the course configuration
(``course/build.py``), so plain ``nbgrader autograde`` and the engine agree.
"""
from __future__ import annotations

_WARNING = r"[^\n]*:\d+: \w*Warning: [^\n]*\n(?:[ \t]+[^\n]*\n)*"
_ORT = r"[^\n]*\[[WI]:onnxruntime:[^\n]*\n"
LIBRARY_NOISE = rf"\A(?:{_WARNING}|{_ORT})+\Z"
