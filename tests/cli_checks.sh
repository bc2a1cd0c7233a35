# Sourced by the shell tests of the sgad command line:
#   . "$(dirname "$0")/cli_checks.sh"
# (POSIX sh: no arguments.) A temporary folder $TMP named after the test,
# removed at exit, and the check helpers;
# the test ends with `exit $FAILED`.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sgad-$(basename "$0" .sh)-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILED=0

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; FAILED=1; }

# expect_rc CODE CMD...: the command exits with CODE (its output kept in $TMP/last)
# and the Vulkan validation layer said nothing.
expect_rc() {
    want=$1
    shift
    rc=0
    "$@" >"$TMP/last" 2>&1 || rc=$?
    if [ "$rc" = "$want" ]; then ok "exit $want: $*"; else fail "exit $rc (want $want): $*"; cat "$TMP/last"; fi
    if grep -q "validation-layer message" "$TMP/last"; then fail "Vulkan validation messages: $*"; cat "$TMP/last"; fi
}

# has FILE PATTERN WHAT: FILE holds a line matching PATTERN
has() {
    if grep -q -- "$2" "$1"; then ok "$3"; else fail "$3 (no '$2' in $1)"; cat "$1"; fi
}

# beats_frame_difference WHAT AUC BASELINE: a model's frame ROC AUC is at least
# 0.9 and above the frame difference's on the same frames (issue 12's bar);
# returns 1 when not (or when either figure is missing)
beats_frame_difference() {
    if [ -n "$2" ] && [ -n "$3" ] && awk -v m="$2" -v d="$3" 'BEGIN { exit !(m >= 0.9 && m > d) }'; then
        ok "$1: ROC AUC $2 >= 0.9 and above frame difference's $3"
    else
        fail "$1: ROC AUC '$2' (want >= 0.9 and above frame difference's '$3')"
        return 1
    fi
}
