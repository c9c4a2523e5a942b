"""Feedback for students: nbgrader's HTML with hidden tests removed, released through the exchange."""
