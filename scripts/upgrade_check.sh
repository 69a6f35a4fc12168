#!/usr/bin/env bash
# A real framework upgrade, end to end: run the specs under another MindSpore (or torch) release in a second
# virtualenv, run the same specs here, and diff the two reports; also check each framework against its own
# outputs stored from the other environment (golden outputs).
#
#   scripts/upgrade_check.sh [PATHS…]            default PATHS: configs
#
# Environment (defaults in brackets):
#   UPGRADE_VENV   the second virtualenv, created if missing, outside the repo [/tmp/eqcheck-ms29]
#   OLD_MINDSPORE  the MindSpore requirement installed there ["mindspore==2.9.*"]
#   OLD_TORCH      the torch requirement installed there [torch==2.13.0]
#   OUT            reports, golden outputs and diffs [/tmp/eqcheck-upgrade]
#   SEED           passed to both runs [eqcheck's default]
# Needs ~2.5 GB of disk for the second environment and a few minutes the first time.
# Exit status: that of `eqcheck diff OLD NEW` (1 when the upgrade regressed something).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
UPGRADE_VENV=${UPGRADE_VENV:-/tmp/eqcheck-ms29}
OLD_MINDSPORE=${OLD_MINDSPORE:-"mindspore==2.9.*"}
OLD_TORCH=${OLD_TORCH:-"torch==2.13.0"}
OUT=${OUT:-/tmp/eqcheck-upgrade}
export GLOG_v=${GLOG_v:-3}
PATHS=("$@")
[ ${#PATHS[@]} -gt 0 ] || PATHS=(configs)
SEED_ARGS=()
[ -z "${SEED:-}" ] || SEED_ARGS=(--seed "$SEED")
NEW_PY=${NEW_PY:-$REPO/.venv/bin/python}

set -e
if [ ! -x "$UPGRADE_VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$UPGRADE_VENV"
fi
# torch first and pinned (a bare requirement pulls a CUDA build); MindSpore 2.x needs numpy<2.
"$UPGRADE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$OLD_TORCH"
"$UPGRADE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$OLD_MINDSPORE" "numpy<2"
"$UPGRADE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO"
set +e

rm -rf "$OUT" && mkdir -p "$OUT"
echo "== old environment: $("$UPGRADE_VENV/bin/python" -c 'import mindspore, torch; print("torch", torch.__version__, "mindspore", mindspore.__version__)' 2>/dev/null)"
"$UPGRADE_VENV/bin/python" -m eqcheck run "${PATHS[@]}" "${SEED_ARGS[@]}" -q --json "$OUT/old.json" --save-golden "$OUT/golden-old"
echo "== new environment: $("$NEW_PY" -c 'import mindspore, torch; print("torch", torch.__version__, "mindspore", mindspore.__version__)' 2>/dev/null)"
"$NEW_PY" -m eqcheck run "${PATHS[@]}" "${SEED_ARGS[@]}" -q --json "$OUT/new.json" --golden "$OUT/golden-old" \
  --markdown "$OUT/new.md" --junit "$OUT/new.xml" --html "$OUT/new.html"
echo "   (exit $? : torch vs MindSpore here, plus each framework against its own outputs from the old environment)"
echo "== diff old -> new"
"$NEW_PY" -m eqcheck diff "$OUT/old.json" "$OUT/new.json" --json "$OUT/diff.json" --markdown "$OUT/diff.md"
status=$?
echo "reports, golden outputs and diffs in $OUT"
exit $status
