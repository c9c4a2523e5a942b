"""Grades out of the gradebook: the CSV export, the grading notes and the score table."""
