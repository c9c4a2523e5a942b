"""Lay out a classroom on disk: accounts, homes, the course (built and released), the exchange, per-role config.

    ROOT/
      accounts.json        generated passwords (owner-readable only; printed by `make hub`)
      hub.json             what jupyterhub_config.py reads: ports, paths, who is instructor and student
      state/               the hub's database, cookie secret, proxy token
      exchange/            nbgrader's exchange, shared by every account
      home/<account>/      each account's home; the instructor's holds the course workspace (classroom/)
      etc/<role>/          each role's nbgrader_config.py (identity, exchange; the instructor's loads the course's),
                           read with deploy/jupyter/ (which tools a role sees) through JUPYTER_CONFIG_PATH

Everything already there is kept: a second start reuses the accounts, the course and what students did.
All accounts run as the unix user that started the hub (JupyterHub's SimpleLocalProcessSpawner): the hub and
nbgrader keep students apart (own login, own server, own nbgrader student id and exchange cache), but code a
student runs can read any file that user can. A class with untrusted students needs a unix user per account
(deploy/tljh) or a container per account (deploy/k8s).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.course.workspace import Workspace, check
from autograder.labs import LABS_DIR

from . import accounts as acc

HUB_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Role configuration shared with the TLJH and Kubernetes guides (deploy/jupyter/README.md).
EVERYONE, INSTRUCTOR_ONLY = HUB_DIR.parent / "jupyter/everyone", HUB_DIR.parent / "jupyter/instructor"

STUDENT_NBGRADER = '''\
# Written by deploy/hub/classroom.py. Every account runs as one unix user, so nbgrader's identity comes from
# the hub login, and each student's exchange cache (which holds their submission secrets) is their own.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
c.Exchange.cache = os.path.join(os.environ["HOME"], ".nbgrader-cache")
'''

INSTRUCTOR_NBGRADER = '''\
# Written by deploy/hub/classroom.py: the instructor's servers use the course's own configuration.
c = get_config()  # noqa: F821
load_subconfig({course_config!r})  # noqa: F821
c.Exchange.cache = {cache!r}
'''


@dataclass(frozen=True)
class Classroom:
    root: str
    port: int
    hub_port: int
    proxy_api_port: int
    course_id: str
    instructor: str
    students: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.home(self.instructor) / "classroom")

    @property
    def exchange(self) -> Path:
        return Path(self.root) / "exchange"

    def home(self, account: str) -> Path:
        return Path(self.root) / "home" / account

    def config_path(self, account: str) -> list[Path]:
        """Jupyter config folders of an account's servers, first wins: its role's nbgrader identity, then
        (instructor) the instructor's tools, then what everyone gets."""
        if account == self.instructor:
            return [Path(self.root) / "etc/instructor", INSTRUCTOR_ONLY, EVERYONE]
        return [Path(self.root) / "etc/student", EVERYONE]

    def environment(self, account: str) -> dict[str, str]:
        """What a server (and every kernel and terminal in it) of ``account`` needs besides the hub's own:
        Jupyter's per-user folders inside the account's home, the role's config, the kit's commands."""
        home = self.home(account)
        return {"JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, self.config_path(account))),
                "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"), "IPYTHONDIR": str(home / ".ipython"),
                "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "SUBSTRATE_HUB_ROOT": self.root}

    def save(self) -> None:
        (Path(self.root) / "hub.json").write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, root: Path) -> Classroom:
        return cls(**json.loads((root / "hub.json").read_text()))


def write_role_config(room: Classroom) -> None:
    student, instructor = Path(room.root) / "etc/student", Path(room.root) / "etc/instructor"
    for folder in (student, instructor):
        folder.mkdir(parents=True, exist_ok=True)
    (student / "nbgrader_config.py").write_text(
        STUDENT_NBGRADER.format(course_id=room.course_id, exchange=str(room.exchange)))
    (instructor / "nbgrader_config.py").write_text(INSTRUCTOR_NBGRADER.format(
        course_config=str(room.workspace.config_file),
        cache=str(room.home(room.instructor) / ".nbgrader-cache")))


def build_course(room: Classroom, labs_dir: Path, labs: list[str] | None) -> list[str]:
    """Build the course with the kit's own command and release every lab, unless a course is there already."""
    workspace = room.workspace
    if not workspace.config_file.exists():
        command = [str(BIN / "substrate-labs"), "build", "--workspace", str(workspace.root), "--labs-dir",
                   str(labs_dir), "--course-id", room.course_id, "--exchange", str(room.exchange)]
        env = {**os.environ, "HOME": str(room.home(room.instructor))}
        subprocess.run(command + (["--labs", *labs] if labs else []), check=True, env=env)
    api = workspace.api()
    released = api.get_released_assignments()
    assignments = workspace.assignments()
    for name in assignments:
        if name not in released:
            check(api.release_assignment(name), f"release_assignment {name}")
    return assignments


def prepare(root: Path, *, ports: tuple[int, int, int], students: list[str], course_id: str,
            labs_dir: Path = LABS_DIR, labs: list[str] | None = None) -> tuple[Classroom, list[acc.Account]]:
    root = root.resolve()
    for folder in ("state", "exchange", "home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "exchange", 0o777)  # nbgrader's exchange must be writable by every account
    accounts = acc.ensure(root / "accounts.json", students)
    room = Classroom(str(root), *ports, course_id=course_id, instructor=acc.INSTRUCTOR,
                     students=[a.name for a in accounts if a.role == "student"])
    for account in accounts:
        room.home(account.name).mkdir(parents=True, exist_ok=True)
    room.save()
    write_role_config(room)
    build_course(room, labs_dir, labs)
    return room, accounts
