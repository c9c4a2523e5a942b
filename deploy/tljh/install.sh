#!/usr/bin/env bash
# Make a TLJH server a Substrate Labs classroom (run as root on the server, from a checkout of the kit).
# Safe to run again: it re-applies the same files and settings. See README.md beside this file.
set -euo pipefail
KIT="$(cd "$(dirname "$0")/../.." && pwd)"
USER_ENV=/opt/tljh/user
test -x "$USER_ENV/bin/pip" || { echo "no TLJH user environment at $USER_ENV: install TLJH first" >&2; exit 2; }

"$USER_ENV/bin/pip" install --quiet "$KIT"                       # the kit, labkit and nbgrader for every user
mkdir -p /srv/nbgrader/exchange && chmod 777 /srv/nbgrader/exchange  # nbgrader's shared exchange
mkdir -p "$USER_ENV/etc/jupyter"
cp -r "$KIT/deploy/jupyter/everyone/." "$USER_ENV/etc/jupyter/"     # students: Assignments + Validate only
cp "$KIT/deploy/tljh/nbgrader_config.py" "$USER_ENV/etc/jupyter/nbgrader_config.py"
# Merge config.yaml into TLJH's config key by key (tljh-config), keeping whatever else the server has set.
"$USER_ENV/bin/python" - "$KIT/deploy/tljh/config.yaml" <<'PY' | while read -r verb key value; do tljh-config "$verb" "$key" "$value"; done
import sys, yaml
def flat(prefix, node):
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flat(path + ".", value)
        elif isinstance(value, list):
            yield from (f"add-item {path} {item}" for item in value)
        else:
            yield f"set {path} {str(value).lower() if isinstance(value, bool) else value}"
print("\n".join(flat("", yaml.safe_load(open(sys.argv[1])))))
PY
tljh-config reload
echo "Done. Log in as 'instructor' once (TLJH creates jupyter-instructor), then follow README.md step 4."
