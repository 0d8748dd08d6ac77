#!/usr/bin/env bash
# Tests both clients against a real overseerd:
#   clients/run_tests.sh PATH/TO/overseerd
# Python: a virtual environment over Debian's python3 (--system-site-packages,
# for python3-yaml), the client installed offline from this checkout, then
# its unittest suite. TypeScript: npm ci from package-lock.json, tsc, npm test.
# Each test starts its own daemons on 127.0.0.1 and stops them by PID.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/overseerd" >&2; exit 2; }
OVERSEERD=$(realpath "$1")
export OVERSEERD
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}

venv=$(mktemp -d "${TMPDIR:-/tmp}/overseer-client-venv.XXXXXX")
trap 'rm -rf "$venv"' EXIT

echo "== Python client ($("$python" --version))"
"$python" -m venv --system-site-packages "$venv"
# --no-index: nothing is downloaded; setuptools is Debian's python3-setuptools.
"$venv/bin/pip" install -q --disable-pip-version-check --no-index --no-build-isolation "$here/python"
rm -rf "$here/python/build" "$here"/python/src/*.egg-info
(cd "$here/python/tests" && "$venv/bin/python" -W error::ResourceWarning -m unittest discover -s . -p 'test_*.py')

echo "== TypeScript client (node $(node --version))"
cd "$here/typescript"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm test
