#!/usr/bin/env bash
# bench/run.sh - measure procsnap against its DESIGN 8 budgets.
#
#   bench/run.sh [N...]          (default: 500; the DESIGN also asks for 2000 and 10000)
#
# For each N: start the standard workload (bench/workload: N processes x 4
# threads, ~20 fds, several mappings), wait until all are up, then in the same
# run, REPS times each (median reported):
#   read floor   bench/readfloor (same file selection as capture, bytes discarded)
#   capture      procsnap capture -q -o SNAP: the default, index built in the
#                pipeline (wall, peak RSS); one --no-index run for reference
#   archive      archive size / raw bytes read (procsnap info)
#   index        procsnap index SNAP (the rebuild; size index / archive)
#   query        procsnap query SNAP "SELECT * FROM files WHERE pid=P" (P a workload pid),
#                or sqlite3 on SNAP.db as a stand-in while there is no query command
#   diff         procsnap diff SNAP1 SNAP2 (two consecutive snapshots; wall, peak RSS),
#                skipped if absent
#   verify       procsnap verify SNAP1 (one run; wall, peak RSS)
#   VM costs     bench/vmcost (a page's first touch, a system call, a process
#                spawn, a CPU loop) before the workload and before the rebuilds:
#                runs on different VMs, or moments of one, can be compared
# The floor and capture repetitions alternate, so background noise hits both.
# Prints a markdown table and replaces the section for N in bench/RESULTS.md.
#
# Environment:
#   BUILD=DIR       build tree holding cli/procsnap (default: <repo>/build)
#   PROCSNAP=FILE   the procsnap binary (default: $BUILD/cli/procsnap)
#   KIT=FILE        a second procsnap, the static kit binary (README "Static build"):
#                   after one untimed command, the query shapes are timed with it too,
#                   alternating, outputs compared, its median given beside (the
#                   verdict stays PROCSNAP's)
#   REPS=3          repetitions per measurement
#   RESULTS=FILE    results file to update (default bench/RESULTS.md; '-' = do not write)
#   BENCH_TMPDIR    where archives go (default: ${TMPDIR:-/tmp}); removed at the end
#   KEEP=1          keep the work directory (archives, raw timings)
#   BENCH_RAISE_PID_MAX=1  raise kernel.pid_max for the run when N x 4 threads does
#                   not fit (N=10000 on a default 32768 pid_max), restored afterwards
# bench/ is not part of CTest: timed tests do not belong in the suite.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${BUILD:-$REPO/build}
[ ! -d "$BUILD" ] || BUILD=$(cd "$BUILD" && pwd) # the tools are linked from it
PROCSNAP=${PROCSNAP:-$BUILD/cli/procsnap}
REPS=${REPS:-3}
RESULTS=${RESULTS:-$HERE/RESULTS.md}
TMPBASE=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

case "${1:-}" in
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
esac
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(500)
for n in "${NS[@]}"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: N must be a positive number: $n" >&2; exit 2; }
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: REPS must be a positive number" >&2; exit 2; }
[ -x "$PROCSNAP" ] || {
	echo "run.sh: no procsnap at $PROCSNAP (build first, or set BUILD= / PROCSNAP=)" >&2
	exit 2
}
[ -z "${KIT:-}" ] || [ -x "$KIT" ] || { echo "run.sh: KIT=$KIT is not an executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || echo "run.sh: warning: not root; the floor and capture will miss other users' files" >&2

WORK=$(mktemp -d "$TMPBASE/procsnap-bench.XXXXXX")
WPID=
OLD_PID_MAX=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; then
		kill -TERM "$WPID" 2>/dev/null || true
		wait "$WPID" 2>/dev/null || true
	fi
	WPID=
	if [ -n "$OLD_PID_MAX" ]; then
		echo "$OLD_PID_MAX" >/proc/sys/kernel/pid_max || true
		OLD_PID_MAX=
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools: the build tree's if up to date, else compiled here --------------
BIN=$WORK/bin
mkdir -p "$BIN"
for t in workload readfloor timeit vmcost; do
	if [ -x "$BUILD/bench/$t" ] && [ "$BUILD/bench/$t" -nt "$HERE/$t.c" ]; then
		ln -s "$BUILD/bench/$t" "$BIN/$t"
	else
		${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -pthread -o "$BIN/$t" "$HERE/$t.c"
	fi
done

log() { echo "run.sh: $*" >&2; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# minmax FORMAT VALUE...: "lo-hi"
minmax() {
	local fmt=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v f="$fmt" 'NR==1{lo=$1} {hi=$1} END {printf f "-" f, lo, hi}'
}
# field KEY FILE: value of KEY=value in the last timeit/readfloor line of FILE
field() { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
verdict() { awk -v v="$1" -v b="$2" 'BEGIN {print (v + 0 <= b + 0) ? "PASS" : "FAIL"}'; }
info_field() { "$PROCSNAP" info "$2" | awk -v k="$1" '$1 == k {print $2}'; }
has_cmd() { "$PROCSNAP" help "$1" >/dev/null 2>&1; }
mib() { calc "%.1f" "$1 / 1048576"; }
# vmcost_line: the VM's costs as a phrase (bench/vmcost.c)
vmcost_line() {
	"$BIN/vmcost" | awk '{for (i = 2; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
		printf "a first touch of a page %s µs, a system call %s µs, fork+exec of /bin/true %s ms, a fixed CPU loop %s ns a step",
			v["touch_us"], v["syscall_us"], v["spawn_ms"], v["loop_ns"]}'
}

MACHINE="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null | head -n 1)" ]; then REV="$REV+uncommitted"; fi

# Stop the workload and let the machine settle (the kernel tears down N x 4
# threads after the workload has reaped its children).
stop_workload() {
	[ -n "$WPID" ] || return 0
	kill -TERM "$WPID" 2>/dev/null || true
	wait "$WPID" 2>/dev/null || true
	WPID=
	sleep 5
}

# ---- one N -----------------------------------------------------------------
run_n() {
	local n=$1 d=$WORK/n$1
	mkdir -p "$d"

	local pid_max tasks
	pid_max=$(cat /proc/sys/kernel/pid_max)
	tasks=$(ps -e -o nlwp= | awk '{s += $1} END {print s}')
	if [ $((n * 4 + tasks + 2000)) -gt "$pid_max" ]; then
		if [ "${BENCH_RAISE_PID_MAX:-0}" = 1 ]; then
			[ -n "$OLD_PID_MAX" ] || OLD_PID_MAX=$pid_max
			echo 4194304 >/proc/sys/kernel/pid_max
			log "kernel.pid_max $pid_max -> 4194304 for this run"
		else
			log "N=$n needs ~$((n * 4 + tasks)) pids but kernel.pid_max is $pid_max; set BENCH_RAISE_PID_MAX=1"
			return 2
		fi
	fi

	# What the VM charges for a page, a system call, a process (vmcost.c),
	# before the workload and again before the rebuilds.
	local vm0 vm1
	vm0=$(vmcost_line) || { log "vmcost failed"; return 2; }
	log "N=$n: starting the workload"
	local t0=$SECONDS
	"$BIN/workload" -n "$n" -p "$d/pids" -d "$d" &
	WPID=$!
	until [ -s "$d/pids" ]; do
		kill -0 "$WPID" 2>/dev/null || { log "workload died"; WPID=; return 2; }
		[ $((SECONDS - t0)) -lt $((120 + n / 20)) ] || { log "workload not up in time"; return 2; }
		sleep 0.2
	done
	local up=$((SECONDS - t0))
	sleep 2 # let the last children settle into pause()
	local qpid nprocs nthreads
	qpid=$(sed -n "$(((n + 1) / 2))p" "$d/pids")
	nprocs=$(ps -e --no-headers | wc -l)
	nthreads=$(ps -e -o nlwp= | awk '{s += $1} END {print s}')
	log "N=$n: up in ${up}s; $nprocs processes, $nthreads threads on the machine; load $(cut -d' ' -f1-3 /proc/loadavg)"

	# Warm-up (not timed): one floor, one capture; its index tells whether
	# this capture reads pagemap, so the floor reads what capture reads.
	"$BIN/readfloor" >"$d/warm.floor"
	"$PROCSNAP" capture -q -o "$d/warm.tar.zst" 2>"$d/warm.err"
	local floor_args=() pagemap=no
	if [ -n "$("$PROCSNAP" ls "$d/warm.tar.zst" 'proc/*/pagemap*' 2>/dev/null | head -n 1)" ]; then
		floor_args=(--pagemap)
		pagemap=yes
	fi
	rm -f "$d/warm.tar.zst" "$d/warm.tar.zst.db"

	local r fw=() cw=() cr=() cu=() cs=() fu=() fs=() iw=() ic=() ir=() ar=() xr=() dw=() dr=() dc=()
	for r in $(seq "$REPS"); do
		log "N=$n rep $r/$REPS: floor, capture (default: the index is built in the pipeline)"
		"$BIN/timeit" -o "$d/floor.$r.t" "$BIN/readfloor" "${floor_args[@]}" >"$d/floor.$r.out"
		"$BIN/timeit" -o "$d/cap.$r.t" "$PROCSNAP" capture -q -o "$d/snap$r.tar.zst" 2>"$d/cap.$r.err" ||
			{ log "capture failed: $(cat "$d/cap.$r.err")"; return 2; }
		fw+=("$(field wall "$d/floor.$r.t")")
		fu+=("$(field user "$d/floor.$r.t")")
		fs+=("$(field sys "$d/floor.$r.t")")
		cw+=("$(field wall "$d/cap.$r.t")")
		cr+=("$(field maxrss_kib "$d/cap.$r.t")")
		cu+=("$(field user "$d/cap.$r.t")")
		cs+=("$(field sys "$d/cap.$r.t")")
		local raw size isize
		raw=$(info_field raw_bytes "$d/snap$r.tar.zst")
		size=$(stat -c %s "$d/snap$r.tar.zst")
		isize=$(stat -c %s "$d/snap$r.tar.zst.db")
		ar+=("$(calc "%.5f" "$size / $raw")")
		xr+=("$(calc "%.3f" "$isize / $size")")
		echo "$raw $size $isize" >"$d/size.$r"
	done
	log "N=$n: one capture --no-index (for reference)"
	"$BIN/timeit" -o "$d/capni.t" "$PROCSNAP" capture -q --no-index -o "$d/ni.tar.zst" 2>"$d/capni.err" || true
	rm -f "$d/ni.tar.zst"

	# Everything below reads the snapshots only, never /proc: the workload
	# is stopped first, so its background cost is not counted against
	# commands it has nothing to do with (with N=10,000 idle processes the
	# kernel's DAMON thread kdamond and pid 1 took ~35% of a core on the
	# 2-core VM: a rebuild took 5.8 s beside them, 4.7 s without).  The
	# queries' process name is read from the snapshot.
	stop_workload
	vm1=$(vmcost_line) || { log "vmcost failed"; return 2; }
	for r in $(seq "$REPS"); do
		log "N=$n rep $r/$REPS: index rebuild"
		"$BIN/timeit" -o "$d/idx.$r.t" "$PROCSNAP" index -o "$d/rebuilt$r.db" "$d/snap$r.tar.zst" 2>"$d/idx.$r.err" ||
			{ log "index failed: $(cat "$d/idx.$r.err")"; return 2; }
		iw+=("$(field wall "$d/idx.$r.t")")
		ic+=("$(calc "%.2f" "$(field user "$d/idx.$r.t") + $(field sys "$d/idx.$r.t")")")
		ir+=("$(field maxrss_kib "$d/idx.$r.t")")
		rm -f "$d/rebuilt$r.db"
	done

	# The query shapes (DESIGN 8, issue 9), each the whole procsnap command.
	local qpname
	qpname=$("$PROCSNAP" query --format csv "$d/snap1.tar.zst" "SELECT name FROM processes WHERE pid = $qpid" | sed -n 2p | tr -d '\r')
	local -a qname=("point query" "files of one pid" "path glob (ls)" "path glob (SQL, files_glob)"
		"path glob (SQL, every column)" "path glob (SQL, query's files)" "path glob (SQL over the view main.files)"
		"processes x open files" "maps of one pid" "listening ports")
	local -a qbud=(10 50 50 50 50 50 50 50 50 50)
	local -a qcmd=(
		"query|SELECT name, cmdline, resident_size FROM processes WHERE pid = $qpid"
		"query|SELECT path, kind, size, xxh3 FROM files WHERE pid = $qpid"
		"ls|proc/*/exe"
		"query|SELECT count(*) FROM files_glob('proc/*/exe')"
		"query|SELECT * FROM files_glob('proc/*/exe')"
		"query|SELECT count(*) FROM files WHERE path GLOB 'proc/*/exe'"
		"query|SELECT count(*) FROM main.files WHERE path GLOB 'proc/*/exe'"
		"query|SELECT p.name, count(*) FROM processes p JOIN process_open_files f ON f.snapshot_id = p.snapshot_id AND f.pid = p.pid GROUP BY p.name"
		"query|SELECT start, \"end\", permissions, path, rss_kb, present FROM process_memory_map WHERE pid = $qpid"
		"query|SELECT p.pid, p.name, l.protocol, l.address, l.port FROM listening_ports l JOIN processes p ON p.snapshot_id = l.snapshot_id AND p.pid = l.pid"
	)
	# the kit binary has not run yet: one untimed command pages it in, as
	# the captures and rebuilds did for PROCSNAP
	[ -z "${KIT:-}" ] || "$KIT" query "$d/snap1.tar.zst" "SELECT count(*) FROM processes" >/dev/null
	# qreps runs of each shape (REPS, at least 5: a run takes milliseconds,
	# and a median of two is the mean of a cold first run and a warm one),
	# round by round through the shapes, so that a few slow seconds of the
	# machine fall on one run of several shapes, not on every run of one;
	# the range is given beside the median
	local qreps=$((REPS > 5 ? REPS : 5))
	local -a qmed=() qrows=() qkit=() qrange=()
	local k
	for r in $(seq "$qreps"); do
		for k in "${!qcmd[@]}"; do
			local how=${qcmd[$k]%%|*} arg=${qcmd[$k]#*|}
			"$BIN/timeit" -o "$d/q$k.$r.t" "$PROCSNAP" "$how" "$d/snap1.tar.zst" "$arg" >"$d/q$k.$r.out"
			[ -n "${KIT:-}" ] || continue
			"$BIN/timeit" -o "$d/k$k.$r.t" "$KIT" "$how" "$d/snap1.tar.zst" "$arg" >"$d/k$k.$r.out"
			cmp -s "$d/q$k.$r.out" "$d/k$k.$r.out" || log "query $k: the kit binary's output differs"
		done
	done
	for k in "${!qcmd[@]}"; do
		local qw=() kw=()
		for r in $(seq "$qreps"); do
			qw+=("$(field wall "$d/q$k.$r.t")")
			[ -z "${KIT:-}" ] || kw+=("$(field wall "$d/k$k.$r.t")")
		done
		qmed+=("$(calc "%.1f" "$(median "${qw[@]}") * 1000")")
		local -a qms=()
		for r in "${qw[@]}"; do qms+=("$(calc "%.1f" "$r * 1000")"); done
		qrange+=("$(minmax %.1f "${qms[@]}")")
		qrows+=("$(wc -l <"$d/q$k.1.out")")
		if [ -n "${KIT:-}" ]; then
			qkit+=("; static kit binary: $(calc "%.1f" "$(median "${kw[@]}") * 1000") ms")
		else
			qkit+=("")
		fi
	done

	local diff_how="no diff command: skipped"
	[ "$REPS" -ge 2 ] || diff_how="REPS=1 makes one snapshot: nothing to diff (REPS=2 or more)"
	if has_cmd diff && [ "$REPS" -ge 2 ]; then
		diff_how="procsnap diff snap1 snap2"
		for r in $(seq "$REPS"); do
			"$BIN/timeit" -o "$d/diff.$r.t" "$PROCSNAP" diff "$d/snap1.tar.zst" "$d/snap2.tar.zst" >"$d/diff.$r.out" || true
			local st
			st=$(field status "$d/diff.$r.t")
			[ "$st" -le 1 ] || { log "diff failed (status $st)"; diff_how="diff failed (status $st)"; dw=(); break; }
			dw+=("$(field wall "$d/diff.$r.t")")
			dr+=("$(field maxrss_kib "$d/diff.$r.t")")
			dc+=("$(calc "%.2f" "$(field user "$d/diff.$r.t") + $(field sys "$d/diff.$r.t")")")
		done
	fi

	# verify: every member re-hashed against the manifest (a reader: the
	# 64 MiB ceiling holds for it too); one run
	log "N=$n: verify snap1"
	"$BIN/timeit" -o "$d/verify.t" "$PROCSNAP" verify "$d/snap1.tar.zst" >"$d/verify.out" || true

	# ---- figures --------------------------------------------------------
	local f c ratio rss rss_mib a_med raw1 size1 isize1 idx irss x_med capbud
	f=$(median "${fw[@]}")
	c=$(median "${cw[@]}")
	ratio=$(calc "%.2f" "$c / $f")
	capbud=1.2
	[ "$n" -le 2000 ] || capbud=1.3
	rss=$(median "${cr[@]}")
	rss_mib=$(calc "%.1f" "$rss / 1024")
	a_med=$(median "${ar[@]}")
	x_med=$(median "${xr[@]}")
	read -r raw1 size1 isize1 <"$d/size.1"
	idx=$(median "${iw[@]}")
	irss=$(calc "%.1f" "$(median "${ir[@]}") / 1024")
	local ibud=1
	[ "$n" -le 2000 ] || ibud=5
	local fl=$d/floor.1.out
	local census
	census="$(field files "$fl") files + $(field links "$fl") links, $(mib "$(field bytes "$fl")") MiB"
	[ "$pagemap" = no ] || census="$census + pagemap $(mib "$(field pagemap_bytes "$fl")") MiB"
	census="$census + $(field bodies "$fl") bodies $(mib "$(field body_bytes "$fl")") MiB + $(field hashed "$fl") files hashed $(mib "$(field hash_bytes "$fl")") MiB"

	local out=$d/section.md
	{
		echo "<!-- bench N=$n -->"
		echo "### N=$n ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "Machine: $MACHINE. procsnap $REV. On the machine during the run: $nprocs processes / $nthreads threads (workload: $n x 4); workload up in ${up} s; stopped before the rebuild, the queries and the diff (they read the snapshots only)."
		echo
		echo "VM costs (bench/vmcost.c), before the workload: $vm0; before the rebuilds: $vm1."
		echo
		echo "Median of $REPS (the query shapes: of $qreps); floor and capture alternate. Floor reads: $census (pagemap: $pagemap)."
		echo
		echo "| figure | value | budget | result | detail |"
		echo "|---|---:|---|---|---|"
		echo "| **capture (default, index included) / read floor** | **$ratio** | ≤ $capbud | $(verdict "$ratio" "$capbud") | capture $(calc "%.2f" "$c") s ($(minmax %.2f "${cw[@]}")), user $(median "${cu[@]}") s / sys $(median "${cs[@]}") s; floor $(calc "%.2f" "$f") s ($(minmax %.2f "${fw[@]}")), user $(median "${fu[@]}") s / sys $(median "${fs[@]}") s; one --no-index run: $(calc "%.2f" "$(field wall "$d/capni.t")") s |"
		echo "| capture peak RSS | $rss_mib MiB | ≤ 64 MiB | $(verdict "$rss_mib" 64) | wait4 ru_maxrss, $(minmax %d "${cr[@]}") KiB |"
		echo "| archive / raw bytes | $(calc "%.3f" "$a_med") (1/$(calc "%.1f" "1 / $a_med")) | ≤ 1/6 (0.167) | $(verdict "$a_med" 0.16667) | rep 1: $(mib "$size1") MiB archive / $(mib "$raw1") MiB raw |"
		echo "| index / archive | $x_med | ≤ 1.5 | $(verdict "$x_med" 1.5) | rep 1: $(mib "$isize1") MiB index |"
		echo "| index rebuild | $(calc "%.2f" "$idx") s | ≤ $ibud s | $(verdict "$idx" "$ibud") | procsnap index, $(minmax %.2f "${iw[@]}") s, cpu (user + sys) $(median "${ic[@]}") s; peak RSS $irss MiB |"
		for k in "${!qcmd[@]}"; do
			echo "| ${qname[$k]} | ${qmed[$k]} ms | ≤ ${qbud[$k]} ms | $(verdict "${qmed[$k]}" "${qbud[$k]}") | \`procsnap ${qcmd[$k]%%|*} SNAP \"${qcmd[$k]#*|}\"\` (whole command, median of $qreps, ${qrange[$k]} ms; ${qrows[$k]} lines out; pid $qpid = $qpname${qkit[$k]}) |"
		done
		if [ ${#dw[@]} -gt 0 ]; then
			local dm dbud drss
			dm=$(median "${dw[@]}")
			dbud=1
			[ "$n" -le 2000 ] || dbud=5
			drss=$(calc "%.1f" "$(median "${dr[@]}") / 1024")
			echo "| diff | $(calc "%.2f" "$dm") s | ≤ $dbud s | $(verdict "$dm" "$dbud") | $diff_how, $(minmax %.2f "${dw[@]}") s, cpu $(median "${dc[@]}") s; $(wc -l <"$d/diff.1.out") lines of output |"
			echo "| diff peak RSS | $drss MiB | ≤ 64 MiB | $(verdict "$drss" 64) | wait4 ru_maxrss, $(minmax %d "${dr[@]}") KiB |"
		else
			echo "| diff | - | ≤ 1 s | SKIP | $diff_how |"
		fi
		local vrss
		vrss=$(calc "%.1f" "$(field maxrss_kib "$d/verify.t") / 1024")
		echo "| verify | $(calc "%.2f" "$(field wall "$d/verify.t")") s | - | - | procsnap verify snap1, exit $(field status "$d/verify.t"), cpu $(calc "%.2f" "$(field user "$d/verify.t") + $(field sys "$d/verify.t")") s: $(tail -1 "$d/verify.out" | cut -d' ' -f1,3-8) |"
		echo "| verify peak RSS | $vrss MiB | ≤ 64 MiB | $(verdict "$vrss" 64) | wait4 ru_maxrss |"
		echo
		local raise=
		[ "${BENCH_RAISE_PID_MAX:-0}" != 1 ] || raise="BENCH_RAISE_PID_MAX=1 "
		echo "Reproduce: \`cd $REPO && BUILD=$BUILD REPS=$REPS ${KIT:+KIT=$KIT }${raise}bench/run.sh $n\`"
		echo "<!-- /bench N=$n -->"
	} >"$out"
	cat "$out"
	echo
	if [ "$RESULTS" != - ]; then
		update_results "$n" "$out"
	fi
}

# Replace the section for N in RESULTS (sections sorted by N, after any
# text that is not a section).
update_results() {
	local n=$1 new=$2 tmp
	if [ ! -f "$RESULTS" ]; then
		printf '# procsnap bench results\n\nWritten by bench/run.sh (see bench/README.md). Budgets: DESIGN 8.\n\n' >"$RESULTS"
	fi
	tmp=$(mktemp "$WORK/results.XXXXXX")
	awk -v n="$n" -v newfile="$new" '
		function flush_sections(   i, j, k, t) {
			# insertion sort of section numbers
			for (i = 2; i <= ns; i++) {
				t = order[i]
				for (j = i - 1; j >= 1 && order[j] + 0 > t + 0; j--) order[j + 1] = order[j]
				order[j + 1] = t
			}
			for (i = 1; i <= ns; i++) { k = order[i]; printf "%s", sec[k]; print "" }
		}
		/^<!-- bench N=[0-9]+ -->$/ { cur = $3; sub(/^N=/, "", cur); insec = 1; buf = ""; }
		insec { buf = buf $0 "\n" }
		/^<!-- \/bench N=[0-9]+ -->$/ {
			if (cur != n) { if (!(cur in sec)) order[++ns] = cur; sec[cur] = buf }
			insec = 0; skipblank = 1; next
		}
		insec { next }
		{ if (skipblank && $0 == "") next; skipblank = 0; pre = pre $0 "\n" }
		END {
			while ((getline line < newfile) > 0) newbuf = newbuf line "\n"
			if (!(n in sec)) order[++ns] = n
			sec[n] = newbuf
			sub(/\n+$/, "\n", pre)
			printf "%s\n", pre
			flush_sections()
		}' "$RESULTS" >"$tmp"
	cat "$tmp" >"$RESULTS"
	log "updated $RESULTS (N=$n)"
}

rc=0
for n in "${NS[@]}"; do
	run_n "$n" || rc=$?
	[ -z "$WPID" ] || { kill -TERM "$WPID" 2>/dev/null || true; wait "$WPID" 2>/dev/null || true; WPID=; }
	[ "$rc" = 0 ] || break
done
exit "$rc"
