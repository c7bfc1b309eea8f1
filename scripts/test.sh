#!/usr/bin/env bash
# Install what the tests need, then run them all: every notebook (through nbdev-test, slow cells included), the pytest
# suite (CLI, exactness per family, sync of notebooks and library, servers, sweeps, JupyterLab, the docs site). Prints
# the ten slowest tests, then ends with one line `N passed, N failed`. Usage: bash scripts/test.sh [pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || { echo "0 passed, 1 failed"; exit 1; }
report=$(mktemp -d)/junit.xml
# Two workers: much of the suite waits on one core (imports, vLLM start-up, notebooks), so a second worker uses the other.
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --junitxml="$report" "$@"
rc=$?
.venv/bin/python - "$report" "$rc" <<'PY'
import sys, xml.etree.ElementTree as ET
try: s = ET.parse(sys.argv[1]).getroot(); s = s if s.tag == 'testsuite' else s[0]
except Exception: print("0 passed, 1 failed"); sys.exit()
tests, failed = int(s.get('tests', 0)), int(s.get('failures', 0)) + int(s.get('errors', 0))
cases = sorted(((float(c.get('time', 0)), f"{c.get('classname', '')}::{c.get('name', '')}") for c in s.iter('testcase')), reverse=True)
print(f"slowest tests (of {len(cases)}, {sum(t for t, _ in cases):.0f} s in all):")
for t, name in cases[:10]: print(f"  {t:7.1f} s  {name}")
skipped = int(s.get('skipped', 0))
failed += int(sys.argv[2]) not in (0,) and failed == 0   # pytest failed without a failing test (collection, usage)
print(f"{tests - failed - skipped} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $rc
