#!/usr/bin/env bash
# `npm run test:python`: the Python client's suite as a user meets it. Installs clients/python into
# a venv under .jobmon-test/ (pip install, as docs/python.md says), runs pytest against a real
# `jobmon server` on SQLite and then on PostgreSQL (a fresh database per session, dropped after),
# and writes .jobmon-test/vitest.json ({numPassedTests, numFailedTests}) from pytest's JUnit XML so
# that .ci/run's lane() counts it like the vitest lanes.
set -u
cd "$(dirname "$0")/.."
out=.jobmon-test
venv=$out/venv
mkdir -p "$out"
py=${PYTHON:-python3}
# --system-site-packages: pytest may come from the system; the client itself needs nothing.
[ -x "$venv/bin/python" ] || "$py" -m venv --system-site-packages "$venv" || exit 1
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./clients/python || exit 1
"$venv/bin/python" -m pytest --version >/dev/null 2>&1 || "$venv/bin/python" -m pip install -q pytest || exit 1

status=0
for kind in sqlite postgres; do
  echo "== python client on $kind"
  (cd clients/python && JOBMON_TEST_DB=$kind "../../$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --junitxml="../../$out/pytest-$kind.xml" tests) || status=1
done

"$venv/bin/python" - "$out" <<'PY'
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
out = Path(sys.argv[1])
passed = failed = 0
for kind in ("sqlite", "postgres"):
    f = out / f"pytest-{kind}.xml"
    if not f.exists():
        failed += 1
        continue
    root = ET.parse(f).getroot()
    for s in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        tests, fail, err, skip = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += tests - fail - err - skip
        failed += fail + err
(out / "vitest.json").write_text(json.dumps({"numPassedTests": passed, "numFailedTests": failed}))
print(f"python: {passed} passed, {failed} failed")
PY
exit $status
