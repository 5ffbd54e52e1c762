#!/bin/sh
# Runs the irctest conformance suite (../shared/irctest, or $IRCTEST_DIR) against teamchat's IRC
# gateway, with the selection of the irctest Makefile plus `not services` unless SERVICES=1.
# Usage: test/irctest/run.sh [extra pytest args, e.g. -k join]
# Needs: python3 with pytest >= 7, python3-ecdsa, python3-filelock, python3-websockets; faketime
# (optional, speeds up list tests); a build (npx tsc -b).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
IRCTEST_DIR=${IRCTEST_DIR:-$(cd "$HERE/../../../shared/irctest" 2>/dev/null && pwd || true)}
if [ -z "$IRCTEST_DIR" ] || [ ! -d "$IRCTEST_DIR/irctest" ]; then
  echo "irctest not found: set IRCTEST_DIR to a checkout of progval/irctest" >&2
  exit 2
fi
FILES=${IRCTEST_FILES:-"connection_registration pingpong messages join part names topic quit who whois away list invite kick isupport cap sasl echo_message message_tags labeled_responses chathistory read_marker away_notify multi_prefix utf8 chmodes"}
PATHS=""
for f in $FILES; do
  if [ -d "$IRCTEST_DIR/irctest/server_tests/$f" ]; then PATHS="$PATHS irctest/server_tests/$f/"; else PATHS="$PATHS irctest/server_tests/$f.py"; fi
done
MARKERS="not implementation-specific and not deprecated and not strict"
if [ "${SERVICES:-0}" != 1 ]; then MARKERS="$MARKERS and not services"; fi
cd "$IRCTEST_DIR"
# shellcheck disable=SC2086
exec env PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" python3 -m pytest -p no:cacheprovider --controller teamchat_controller -m "$MARKERS" $PATHS "$@"
