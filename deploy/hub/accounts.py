"""Classroom accounts: generated passwords, kept in one private file, checked by a tiny JupyterHub authenticator.

Every account has its own password, so a student cannot log in as another (a shared class password, as
JupyterHub's ``shared-password`` authenticator has, would make every student able to become any other).
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode

INSTRUCTOR = "instructor"


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    role: str  # "instructor" or "student"


def load(path: Path) -> list[Account]:
    return [Account(**entry) for entry in json.loads(path.read_text())]


def ensure(path: Path, students: list[str]) -> list[Account]:
    """The accounts in ``path``; new ones for the instructor and any student not there yet, with new passwords.

    Existing passwords are kept, so restarting the classroom never locks anyone out. The file is readable by
    its owner only.
    """
    accounts = load(path) if path.exists() else []
    known = {a.name for a in accounts}
    wanted = [(INSTRUCTOR, "instructor")] + [(s, "student") for s in students]
    accounts += [Account(name, secrets.token_urlsafe(12), role) for name, role in wanted if name not in known]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([a.__dict__ for a in accounts], f, indent=1)
    return accounts


class AccountsAuthenticator(Authenticator):
    """Logs in the accounts of a classroom's accounts file, each with its own password."""

    accounts_file = Unicode(config=True, help="JSON list of {name, password, role}, written by ensure()")

    async def authenticate(self, handler, data):
        by_name = {a.name: a for a in load(Path(self.accounts_file))}
        account = by_name.get(data.get("username", ""))
        given = data.get("password", "").encode()
        if account is None or not hmac.compare_digest(account.password.encode(), given):
            return None
        return {"name": account.name, "admin": account.role == "instructor"}
