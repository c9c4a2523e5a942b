"""Every shipped deployment file parses and says what the classroom needs: loopback hub, per-account passwords,
role folders, the kit's image, the exchange path, per-user memory that holds a lab (deploy/).

The browser test (test_classroom_e2e.py) runs the `make hub` files for real; TLJH and Kubernetes cannot run
here, so their files are checked for content, and values.yaml against the chart's schema when it is at hand.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jupyterhub.app import JupyterHub
from traitlets.config.loader import PyFileConfigLoader

from deploy.hub import accounts
from deploy.hub.classroom import EVERYONE, INSTRUCTOR_ONLY, Classroom, write_role_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LAB_LIMIT_MIB = 1024  # docs/authoring-labs.md and benchmarks/lab_costs.py: every lab stays under 1 GiB
SERVER_MIB = 175  # a JupyterLab user server: 171 MiB resident, measured by test_classroom_e2e (memory-*.json)
NBGRADER_TOOLS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:course-list"]


def mib(quantity: str | int) -> float:
    """A Kubernetes / systemd memory quantity in MiB ("1280M", "1.5G", "512Mi")."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([KMGT]i?)?", str(quantity)).groups()
    scale = {None: 1 / 2**20, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20, "T": 1e12 / 2**20,
             "Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 2**20}[unit]
    return float(number) * scale


def nbgrader_config(path: Path, **env: str):
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(old)


@pytest.fixture
def room(tmp_path, monkeypatch):
    room = Classroom(str(tmp_path), 18000, 18001, 18002, course_id="cs-test", instructor="instructor",
                     students=["alice", "bob"])
    room.save()
    accounts.ensure(tmp_path / "accounts.json", room.students)
    monkeypatch.setenv("SUBSTRATE_HUB_ROOT", str(tmp_path))
    return room


def test_hub_config_loads_into_jupyterhub_on_loopback_only(room):
    hub = JupyterHub()
    hub.load_config_file(str(DEPLOY / "hub/jupyterhub_config.py"))
    assert hub.bind_url == "http://127.0.0.1:18000/"
    assert hub.hub_bind_url == "http://127.0.0.1:18001"
    assert hub.config.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:18002"
    assert hub.config.ConfigurableHTTPProxy.command == [str(DEPLOY / "hub/node_modules/.bin/configurable-http-proxy")]
    assert hub.authenticator_class is accounts.AccountsAuthenticator
    assert hub.config.Authenticator.admin_users == {"instructor"}
    assert hub.config.Authenticator.allowed_users == {"instructor", "alice", "bob"}
    assert hub.db_url.startswith(f"sqlite:///{room.root}/state/")
    assert hub.config.SimpleLocalProcessSpawner.home_dir_template == f"{room.root}/home/{{username}}"


def test_the_proxy_version_is_pinned_and_locked():
    package = json.loads((DEPLOY / "hub/package.json").read_text())
    lock = json.loads((DEPLOY / "hub/package-lock.json").read_text())
    pinned = package["dependencies"]["configurable-http-proxy"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == pinned


def test_each_account_has_its_own_private_password(tmp_path):
    path = tmp_path / "accounts.json"
    first = accounts.ensure(path, ["alice", "bob"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len({a.password for a in first}) == 3 and all(len(a.password) >= 16 for a in first)
    again = accounts.ensure(path, ["alice", "bob", "chen"])  # a restart, one more student
    assert again[:3] == first and again[3].name == "chen"
    auth = accounts.AccountsAuthenticator(accounts_file=str(path))
    by_name = {a.name: a for a in again}

    def login(name, password):
        return asyncio.run(auth.authenticate(None, {"username": name, "password": password}))

    assert login("alice", by_name["alice"].password) == {"name": "alice", "admin": False}
    assert login("instructor", by_name["instructor"].password) == {"name": "instructor", "admin": True}
    assert login("alice", by_name["bob"].password) is None, "bob's password must not open alice's account"
    assert login("mallory", by_name["bob"].password) is None


def test_students_get_their_own_nbgrader_identity_and_cache(room):
    write_role_config(room)
    student = nbgrader_config(Path(room.root) / "etc/student/nbgrader_config.py",
                              JUPYTERHUB_USER="alice", HOME=str(room.home("alice")))
    assert student.CourseDirectory.student_id == "alice"
    assert student.Exchange.cache == str(room.home("alice") / ".nbgrader-cache")
    assert student.Exchange.root == str(room.exchange)
    assert room.config_path("alice") == [Path(room.root) / "etc/student", EVERYONE]
    assert room.config_path("instructor") == [Path(room.root) / "etc/instructor", INSTRUCTOR_ONLY, EVERYONE]


def test_role_folders_hide_instructor_tools_from_students_only():
    everyone = json.loads((EVERYONE / "labconfig/page_config.json").read_text())["disabledExtensions"]
    instructor = json.loads((INSTRUCTOR_ONLY / "labconfig/page_config.json").read_text())["disabledExtensions"]
    assert all(everyone[p] for p in NBGRADER_TOOLS) and everyone["@jupyterlab/apputils-extension:announcements"]
    assert instructor == dict.fromkeys(NBGRADER_TOOLS, False), "the instructor gets exactly the tools back"
    server = json.loads((EVERYONE / "jupyter_server_config.json").read_text())["ServerApp"]
    assert not server["jpserver_extensions"]["nbgrader.server_extensions.formgrader"]
    assert server["tornado_settings"]["headers"]["Content-Security-Policy"] == "frame-ancestors 'self'"
    back = json.loads((INSTRUCTOR_ONLY / "jupyter_server_config.json").read_text())["ServerApp"]
    assert set(back["jpserver_extensions"]) == set(server["jpserver_extensions"])
    assert all(back["jpserver_extensions"].values())


def test_launcher_refuses_a_busy_port_with_one_clear_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "deploy.hub.launch", "--root", str(tmp_path / "room"),
                              "--port", str(port)], capture_output=True, text=True, cwd=DEPLOY.parent, timeout=60)
    if "configurable-http-proxy" in run.stderr:
        pytest.skip("the proxy is not installed (make test runs npm ci in deploy/hub)")
    assert run.returncode == 2 and f"port {port} is in use" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "room").exists(), "nothing is laid out"


# -- The Littlest JupyterHub -----------------------------------------------------------------------------

# The part of TLJH's config schema (tljh/config_schema.py upstream) that config.yaml uses.
TLJH_KEYS = {"users.admin": list, "user_environment.default_app": str, "limits.memory": str, "limits.cpu": int,
             "services.cull.enabled": bool, "services.cull.timeout": int, "services.cull.every": int,
             "services.cull.users": bool}


def flatten(node: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def test_tljh_config_uses_known_keys_and_sizes_a_user_for_a_lab():
    config = flatten(yaml.safe_load((DEPLOY / "tljh/config.yaml").read_text()))
    assert set(config) <= set(TLJH_KEYS), set(config) - set(TLJH_KEYS)
    assert all(isinstance(config[k], TLJH_KEYS[k]) for k in config)
    assert config["users.admin"] == ["instructor"]
    assert mib(config["limits.memory"]) >= SERVER_MIB + LAB_LIMIT_MIB
    assert config["services.cull.enabled"]


def test_tljh_install_script_merges_exactly_config_yaml():
    script = (DEPLOY / "tljh/install.sh").read_text()
    assert subprocess.run(["bash", "-n", str(DEPLOY / "tljh/install.sh")]).returncode == 0
    merge = script.split("<<'PY'", 1)[1].split("\nPY\n", 1)[0].split("\n", 1)[1]
    run = subprocess.run([sys.executable, "-", str(DEPLOY / "tljh/config.yaml")], input=merge, text=True,
                         capture_output=True, check=True)
    commands = run.stdout.splitlines()
    config = flatten(yaml.safe_load((DEPLOY / "tljh/config.yaml").read_text()))
    assert "add-item users.admin instructor" in commands
    assert f"set limits.memory {config['limits.memory']}" in commands
    assert "set services.cull.enabled true" in commands
    assert len(commands) == len(config), commands
    exchange = nbgrader_config(DEPLOY / "tljh/nbgrader_config.py").Exchange.root
    assert f"mkdir -p {exchange}" in script, "install.sh creates the exchange nbgrader_config.py names"
    for source in re.findall(r'"\$KIT/(deploy/[^"]+)"', script):
        assert (DEPLOY.parent / source.rstrip(".").rstrip("/")).exists(), source


def test_tljh_instructor_config_finds_the_course_and_keeps_the_owner_check():
    text = (DEPLOY / "tljh/instructor_nbgrader_config.py").read_text()
    root = re.search(r'CourseDirectory.root = "([^"]+)"', text).group(1)
    assert f'load_subconfig("{root}/nbgrader_config.py")' in text
    assert "check_owner = True" in text


# -- Zero to JupyterHub -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((DEPLOY / "k8s/values.yaml").read_text())


def test_z2jh_values_name_the_image_and_size_users_from_measured_peaks(values):
    user = values["singleuser"]
    assert user["image"]["name"].endswith("/substrate-labs-singleuser") and user["image"]["tag"]
    assert "deploy/k8s/Dockerfile" in (DEPLOY / "k8s/values.yaml").read_text()
    assert mib(user["memory"]["limit"]) >= SERVER_MIB + LAB_LIMIT_MIB
    assert mib(user["memory"]["guarantee"]) >= SERVER_MIB + 200  # today's largest lab measures ~200 MiB
    assert 0 < float(user["cpu"]["guarantee"]) <= float(user["cpu"]["limit"])
    assert values["cull"]["enabled"] and values["cull"]["timeout"] > 0
    assert values["scheduling"]["userPlaceholder"]["enabled"], "placeholders are how a deadline is pre-scaled"


def test_z2jh_exchange_volume_is_where_nbgrader_looks(values):
    storage = values["singleuser"]["storage"]
    exchange = nbgrader_config(DEPLOY / "k8s/nbgrader_config.py").Exchange.root
    assert [m["mountPath"] for m in storage["extraVolumeMounts"]] == [exchange]
    pvc = yaml.safe_load((DEPLOY / "k8s/exchange-pvc.yaml").read_text())
    assert storage["extraVolumes"][0]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_dockerfile_builds_from_environment_yml_and_bakes_in_the_role_config():
    dockerfile = (DEPLOY / "k8s/Dockerfile").read_text()
    assert "environment.yml" in dockerfile
    copies = re.findall(r"^COPY (?:--\S+ )*(\S+) (\S+)$", dockerfile, flags=re.M)
    for source, _ in copies:
        assert (DEPLOY.parent / source).exists(), source
    assert ("deploy/jupyter/everyone/", "/opt/conda/etc/jupyter/") in copies
    assert ("deploy/k8s/nbgrader_config.py", "/opt/conda/etc/jupyter/nbgrader_config.py") in copies


def test_z2jh_values_validate_against_the_charts_schema(values):
    chart = os.environ.get("Z2JH_CHART")
    if not chart:
        pytest.skip("set Z2JH_CHART to an unpacked jupyterhub chart (values.yaml, values.schema.yaml): the schema "
                    "ships only with the chart, which is not downloaded at test time")
    import jsonschema

    def merge(base, override):
        out = dict(base)
        for key, value in override.items():
            both = isinstance(value, dict) and isinstance(base.get(key), dict)
            out[key] = merge(base[key], value) if both else value
        return out

    defaults = yaml.safe_load((Path(chart) / "values.yaml").read_text())
    schema = yaml.safe_load((Path(chart) / "values.schema.yaml").read_text())
    errors = [f"{e.json_path}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(
        merge(defaults, values))]
    assert not errors, errors
