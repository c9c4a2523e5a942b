# The instructor's nbgrader config: copy to ~jupyter-instructor/.jupyter/nbgrader_config.py after
# `substrate-labs build` (deploy/tljh/README.md). Formgrader and the nbgrader commands then find the course.
c = get_config()  # noqa: F821
load_subconfig("/home/jupyter-instructor/classroom/course/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "/home/jupyter-instructor/classroom/course"
# Real unix users: keep nbgrader's owner check (the course config written by `build` turns it off for the
# one-unix-user `make hub`).
c.ExchangeCollect.check_owner = True
