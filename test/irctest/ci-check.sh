#!/bin/sh
# irctest as a CI gate: runs the issue's selection (`not services`) and, with SERVICES=1, the sasl
# and chathistory files, and fails when the passed count of either drops below its floor.
#
# Two pytest processes run side by side for the selection (this machine has 2 cores; each test
# starts a server, so the time goes to process start-up, not to one core): group A and group B;
# then the services files alone. The parts took 6-7 minutes (selection) and 3.5 (services) in the
# runs of 2026-12-06; the whole in this order has not been timed yet.
#
# Usage: test/irctest/ci-check.sh        (after a build: npx tsc -b; needs what run.sh needs)
# Exit: 0 both counts at or above their floors; 1 a count below its floor (or pytest found nothing).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

# Floors: the passed counts measured when they were set (see README.md in this folder: 202 of a
# clean 203, and 35), less the few tests a loaded machine has been seen to lose (a late reply, or
# a port taken between irctest choosing it and the server binding it). Raise them when the
# gateway passes more; never lower them to make a failing run pass.
FLOOR_SELECTION=${FLOOR_SELECTION:-199}
FLOOR_SERVICES=${FLOOR_SERVICES:-34}

GROUP_A="chmodes who labeled_responses cap"
GROUP_B="connection_registration pingpong messages join part names topic quit whois away list invite kick isupport echo_message message_tags read_marker away_notify multi_prefix utf8"
SERVICES_FILES="sasl chathistory"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/teamchat-irctest-ci.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

IRCTEST_FILES="$GROUP_A" "$HERE/run.sh" -q > "$OUT/a.txt" 2>&1 &
A=$!
IRCTEST_FILES="$GROUP_B" "$HERE/run.sh" -q > "$OUT/b.txt" 2>&1 &
B=$!
wait "$A" "$B"
# Alone, after the selection: beside its second pytest process, SASL and history tests lost one
# or two more to timing (33 passed in one clean-clone run of 2026-12-06, 35 alone).
SERVICES=1 IRCTEST_FILES="$SERVICES_FILES" "$HERE/run.sh" -q > "$OUT/services.txt" 2>&1

# The count of one outcome ("passed", "failed", ...) in pytest's closing line; 0 when absent.
count() {
  tail -n 1 "$1" | grep -oE "[0-9]+ $2" | grep -oE '^[0-9]+' || echo 0
}

status=0
a=$(count "$OUT/a.txt" passed)
b=$(count "$OUT/b.txt" passed)
s=$(count "$OUT/services.txt" passed)
selection=$((a + b))
selection_failed=$(( $(count "$OUT/a.txt" failed) + $(count "$OUT/b.txt" failed) + $(count "$OUT/a.txt" error) + $(count "$OUT/b.txt" error) ))
services_failed=$(( $(count "$OUT/services.txt" failed) + $(count "$OUT/services.txt" error) ))

for f in a b services; do
  echo "--- irctest $f: $(tail -n 1 "$OUT/$f.txt")"
  grep -E '^(FAILED|ERROR) ' "$OUT/$f.txt" || true
done
echo "irctest selection (not services): $selection passed, $selection_failed failed (floor $FLOOR_SELECTION)"
echo "irctest services (sasl, chathistory): $s passed, $services_failed failed (floor $FLOOR_SERVICES)"
if [ "$selection" -lt "$FLOOR_SELECTION" ]; then
  echo "irctest: the selection passed $selection, below its floor $FLOOR_SELECTION" >&2
  status=1
fi
if [ "$s" -lt "$FLOOR_SERVICES" ]; then
  echo "irctest: sasl and chathistory passed $s, below their floor $FLOOR_SERVICES" >&2
  status=1
fi
exit $status
