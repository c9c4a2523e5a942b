# nbgrader in every pod of the Kubernetes classroom (baked into the image, see Dockerfile).
# Every pod runs as the unix user jovyan; nbgrader then takes the student id from JUPYTERHUB_USER, which the
# hub sets per login. The exchange is the ReadWriteMany volume mounted at /srv/nbgrader/exchange (values.yaml).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "substrate-labs"
c.Exchange.root = "/srv/nbgrader/exchange"
# All pods share one uid, so nbgrader's owner check cannot tell students apart: turn it off, and rely on the
# per-pod home (each student's own exchange cache holds their submission secrets).
c.ExchangeCollect.check_owner = False
