"""A classroom on one machine: JupyterHub, configurable-http-proxy and nbgrader, started by ``make hub``."""
