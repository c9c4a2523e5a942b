# nbgrader for every account of a TLJH classroom: copy to /opt/tljh/user/etc/jupyter/nbgrader_config.py.
# Each TLJH login is its own unix user (jupyter-<login>), so nbgrader's student id is that unix user and the
# exchange's owner check is real: one student cannot submit as another or collect another's feedback.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "substrate-labs"
c.Exchange.root = "/srv/nbgrader/exchange"
