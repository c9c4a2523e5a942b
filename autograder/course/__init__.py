"""The course lifecycle: the workspace on disk, building the course from labs/, a simulated class, late policy."""
