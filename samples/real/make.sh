#!/usr/bin/env bash
# Regenerate samples/real/minimal.tar.zst: a small real snapshot of this
# machine (pid 1 and a sleep), captured by the procsnap under test.
# kallsyms is excluded to keep the archive well under 1 MiB.
#   samples/real/make.sh [path/to/procsnap]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
procsnap=${1:-$here/../../build/cli/procsnap}
sleep 60 &
sp=$!
trap 'kill $sp 2>/dev/null || true' EXIT
"$procsnap" capture --force --no-index --pid 1 --pid "$sp" --exclude proc/kallsyms \
  --case SAMPLE-1 --examiner procsnap-tests \
  --note "minimal real snapshot: pid 1 and a sleep; kallsyms excluded to stay small" \
  -o "$here/minimal.tar.zst"
ls -l "$here/minimal.tar.zst"
