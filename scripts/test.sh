#!/usr/bin/env bash
# Install what the tests need, then run them all: every notebook (through nbdev-test), the pytest suite (CLI,
# exactness per family, sync of notebooks and library, JupyterLab, the sweep benchmark). Ends with one line
# `N passed, N failed`. Usage: bash scripts/test.sh [pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || { echo "0 passed, 1 failed"; exit 1; }
report=$(mktemp -d)/junit.xml
.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$report" "$@"
rc=$?
.venv/bin/python - "$report" "$rc" <<'PY'
import sys, xml.etree.ElementTree as ET
try: s = ET.parse(sys.argv[1]).getroot(); s = s if s.tag == 'testsuite' else s[0]
except Exception: print("0 passed, 1 failed"); sys.exit()
tests, failed = int(s.get('tests', 0)), int(s.get('failures', 0)) + int(s.get('errors', 0))
skipped = int(s.get('skipped', 0))
failed += int(sys.argv[2]) not in (0,) and failed == 0   # pytest failed without a failing test (collection, usage)
print(f"{tests - failed - skipped} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $rc
