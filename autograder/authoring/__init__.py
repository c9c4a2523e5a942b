"""Checking a lab while it is written: the authoring linter and the wrong-answer checker."""
