#!/usr/bin/env bash
# The test command named in the README, and what CI runs (.ci/run calls exactly this):
# start the real services, install the locked dependencies, lint, type-check, check the Helm chart, then run the
# suite with coverage (its summary closes the output). Any missing service fails the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv
fi

bash scripts/services.sh up
# The browser tests drive Debian's Chromium (Playwright's own browser downloads cannot work here).
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  echo "== installing chromium and CJK fonts (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
# shellcheck disable=SC1091
source "${YINLING_SERVICES_DIR:-.services}/env"

uv sync --frozen
echo "== ruff"
uv run ruff check core plugins tests examples
uv run ruff format --check core plugins tests examples
echo "== mypy"
uv run mypy
echo "== helm chart"
bash scripts/check-helm.sh
echo "== pytest"
set +e
uv run pytest --cov --cov-report=term:skip-covered --cov-report=xml "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
