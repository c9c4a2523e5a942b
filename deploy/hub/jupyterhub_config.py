# JupyterHub configuration of the one-machine classroom (`make hub`); deploy/hub/classroom.py lays out the
# folder it names in SUBSTRATE_HUB_ROOT. Loopback only: this hub is for a class on one machine or for testing.
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for deploy.hub.*
from deploy.hub.accounts import AccountsAuthenticator  # noqa: E402
from deploy.hub.classroom import HUB_DIR, Classroom  # noqa: E402

c = get_config()  # noqa: F821
room = Classroom.load(Path(os.environ["SUBSTRATE_HUB_ROOT"]))
state = Path(room.root) / "state"

c.JupyterHub.bind_url = f"{room.url}/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{room.hub_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{room.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(HUB_DIR / "node_modules/.bin/configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user server and the proxy

c.JupyterHub.authenticator_class = AccountsAuthenticator
c.AccountsAuthenticator.accounts_file = str(Path(room.root) / "accounts.json")
c.Authenticator.allowed_users = {room.instructor, *room.students}
c.Authenticator.admin_users = {room.instructor}

c.JupyterHub.spawner_class = "simple"  # every account as this unix user, each with its own home
c.SimpleLocalProcessSpawner.home_dir_template = str(Path(room.root) / "home" / "{username}")
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.start_timeout = 120  # a busy 2-core machine can take tens of seconds to start a server
c.Spawner.http_timeout = 120


def role_environment(spawner):
    spawner.environment.update(room.environment(spawner.user.name))


c.Spawner.pre_spawn_hook = role_environment
