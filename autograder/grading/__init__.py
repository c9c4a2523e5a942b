"""Autograding submissions: the engine that schedules them, the worker that grades one, the integrity preflight."""
