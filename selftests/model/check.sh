#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the Promela models exhaustively with spin, and check that every
# deliberately broken variant (mutant) of each model fails, so that a
# model unable to fail cannot pass unnoticed.
#
#   selftests/model/check.sh [MODEL.pml...]    (default: selftests/model/*.pml)
#
# Each model declares, in comment lines of its own:
#
#   model: 2P x 2C, capacity 2, 3 laps     what its TAP line calls it
#   checks: safety liveness                its searches (default: safety)
#   mutants: BUG_A BUG_B                   macros that break it
#
# A key may take several lines, each starting with it ("mutants: BUG_C").
#
#   safety    pan built with -DSAFETY: assertions and invalid end states
#   liveness  pan built with -DNP, run with -l -f: non-progress cycles
#             under weak fairness (progress* labels), and assertions
#
# Each search is built with spin -DCHECK_SAFETY or -DCHECK_LIVENESS, so a
# model can leave out ghost state that only the other search needs.
#
# A model passes if every search is complete (no depth truncation, no
# memory limit) and finds no error. A mutant (spin -DBUG_X) is caught if
# one of its model's searches, run in order, finds an error; a mutant that
# the model never uses, that does not build, or whose search cannot
# complete fails. Searches are exhaustive: no bitstate, no hash
# compaction, no compression needed at these sizes.
#
# Output is TAP, one line per model and one per mutant; the exit status
# is 1 if any failed. A failure keeps the work directory, with each
# search's logs and error trail.
#
# Environment: JOBS searches at a time (default: nproc), MEMLIM MiB per
# search (default 2048), DEPTH (pan -m, default 100000), KEEP=1 keeps
# the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MEMLIM=${MEMLIM:-2048}
DEPTH=${DEPTH:-100000}
KEEP=${KEEP:-0}

if [ $# -eq 0 ]; then
	set -- "$here"/*.pml
fi

for tool in spin gcc; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..1"
		echo "not ok 1 - spin models: $tool is not installed"
		exit 1
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/lfq-model.XXXXXX")

cleanup() {
	if [ "$KEEP" = 1 ]; then
		echo "# work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# on a signal, stop the searches this script started, by their pids
interrupted() {
	local f
	for f in "$work"/*/*/*/pan.pid; do
		if [ -r "$f" ]; then
			kill "$(cat "$f")" 2>/dev/null || true
		fi
	done
	# shellcheck disable=SC2046
	kill $(jobs -p) 2>/dev/null || true
	exit 130
}
trap interrupted INT TERM

# decl FILE KEY: what follows "KEY:" on FILE's comment lines that start
# with it, all such lines joined
decl() {
	sed -n "s/^[[:space:]/*#-]*$2:[[:space:]]*//p" "$1" |
		sed 's/[[:space:]]*\*\/[[:space:]]*$//' | paste -sd ' ' -
}

# checks_of MODEL: the searches MODEL asks for
checks_of() {
	local checks
	checks=$(decl "$1" checks)
	echo "${checks:-safety}"
}

# search MODEL CHECK DIR [DEFINE...]: build and run one search in DIR and
# leave its outcome in DIR/result, one line:
#   status states seconds message
# status: done (complete, no error), error (found one), incomplete or
# broken (did not build or did not finish).
search() {
	local model=$1 check=$2 dir=$3 run
	local -a cflags
	shift 3
	mkdir -p "$dir"
	case $check in
	safety)
		cflags=(-DSAFETY)
		run="./pan -m$DEPTH -n"
		;;
	liveness)
		# no partial-order reduction under fairness: it saves next to
		# nothing on these models, so take no chances with it
		cflags=(-DNP -DNOREDUCE)
		run="./pan -l -f -m$DEPTH -n"
		;;
	*)
		echo "broken 0 0 unknown search '$check'" >"$dir/result"
		return
		;;
	esac
	cp "$model" "$dir/"
	model=$(basename "$model")
	set -- "-DCHECK_${check^^}" "$@"
	echo "spin -t -p $* $model" >"$dir/replay"
	if ! (cd "$dir" && spin "$@" -a "$model") >"$dir/spin.log" 2>&1; then
		echo "broken 0 0 spin -a failed: $(grep -m1 . "$dir/spin.log")" >"$dir/result"
		return
	fi
	# -w: pan.c is noisy
	if ! (cd "$dir" && gcc -O2 -w "${cflags[@]}" -DMEMLIM="$MEMLIM" -o pan pan.c) \
		>"$dir/gcc.log" 2>&1; then
		echo "broken 0 0 gcc failed: $(grep -m1 . "$dir/gcc.log")" >"$dir/result"
		return
	fi
	(cd "$dir" && exec $run) >"$dir/pan.log" 2>&1 &
	echo $! >"$dir/pan.pid"
	wait $! || true
	rm -f "$dir/pan.pid"

	local log=$dir/pan.log errors states secs msg status where stop
	stop='max search depth too small|Search not completed'
	stop+='|reached -DMEMLIM|out of memory'
	errors=$(sed -n 's/.*, errors: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" |
		tail -n 1)
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' \
		"$log" | tail -n 1)
	msg=$(sed -n 's/^pan:[0-9]*: //p' "$log" | head -n 1)
	if [ -z "$errors" ]; then
		status=broken
		msg="pan did not finish: $(grep -m1 -E "$stop|rror" "$log" ||
			tail -n 1 "$log")"
	elif [ "$errors" -gt 0 ]; then
		status=error
		# name the failed assert as written, with its comment
		where=$(cd "$dir" && spin "$@" -t "$model" 2>&1 | sed -n \
			's/^spin: \(.*\):\([0-9]*\), Error: assertion violated.*/\1 \2/p' |
			head -n 1) || true
		if [ -n "$where" ]; then
			msg="assertion violated at ${where/ /:}: $(sed -n "${where#* }p" \
				"$dir/${where% *}" | tr -s ' \t' ' ' | sed 's/^ //')"
		fi
	elif grep -qE "$stop" "$log"; then
		status=incomplete
		msg=$(grep -m1 -E "$stop" "$log")
	else
		status="done"
	fi
	echo "$status ${states:-0} ${secs:-0} $msg" >"$dir/result"
}

# mutant MODEL MUTANT DIR: the model's searches in order, until one fails
mutant() {
	local model=$1 mutant=$2 dir=$3 check status
	for check in $(checks_of "$model"); do
		search "$model" "$check" "$dir/$check" "-D$mutant"
		read -r status _ <"$dir/$check/result"
		[ "$status" = "done" ] || break
	done
}

# spawn CMD...: run CMD in the background, at most $JOBS at a time
spawn() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
	done
	"$@" &
}

# diag DIR: what a failed search said, as TAP comments
diag() {
	local dir=$1 status states secs msg f
	read -r status states secs msg <"$dir/result"
	echo "#   $(basename "$dir"): $status, $states states${msg:+: $msg}"
	case $status in
	broken)
		for f in spin.log gcc.log pan.log; do
			if [ -s "$dir/$f" ]; then
				grep -v '^\s*$' "$dir/$f" | head -n 10 | sed 's/^/#     /'
			fi
		done
		;;
	error)
		grep -E '^pan:|errors:' "$dir/pan.log" | sed 's/^/#     /'
		if compgen -G "$dir/*.trail" >/dev/null; then
			echo "#     replay: cd $dir && $(cat "$dir/replay")"
		fi
		;;
	esac
}

# Plan: one test per model, one per mutant.
declare -a kind=() model_of=() name_of=() dir_of=()
n=0
for model in "$@"; do
	if [ ! -r "$model" ]; then
		echo "1..1"
		echo "not ok 1 - $model: no such model"
		exit 1
	fi
	model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
	base=$(basename "$model" .pml)
	n=$((n + 1))
	kind[n]=model model_of[n]=$model name_of[n]=$base
	dir_of[n]=$work/$base/model
	for m in $(decl "$model" mutants); do
		n=$((n + 1))
		kind[n]=mutant model_of[n]=$model name_of[n]=$m
		dir_of[n]=$work/$base/$m
	done
done

# Run: the long searches of the models first, then the mutants.
SECONDS=0
for ((i = 1; i <= n; i++)); do
	if [ "${kind[i]}" = model ]; then
		for check in $(checks_of "${model_of[i]}"); do
			spawn search "${model_of[i]}" "$check" "${dir_of[i]}/$check"
		done
	fi
done
for ((i = 1; i <= n; i++)); do
	# a mutant must appear in the model besides its "mutants:" line
	if [ "${kind[i]}" = mutant ] &&
		[ "$(grep -cw -- "${name_of[i]}" "${model_of[i]}")" -ge 2 ]; then
		spawn mutant "${model_of[i]}" "${name_of[i]}" "${dir_of[i]}"
	fi
done
wait

# Report.
echo "1..$n"
failed=0
for ((i = 1; i <= n; i++)); do
	model=${model_of[i]}
	base=$(basename "$model" .pml)
	ok=1
	if [ "${kind[i]}" = model ]; then
		detail=""
		for check in $(checks_of "$model"); do
			res=${dir_of[i]}/$check/result
			status=broken states=0 secs=0 msg="did not run"
			if [ -r "$res" ]; then
				read -r status states secs msg <"$res"
			fi
			if [ "$status" = "done" ]; then
				detail+="${detail:+; }$check: states=$states, time=${secs}s"
			else
				ok=0
				detail+="${detail:+; }$check: $status${msg:+: $msg}"
			fi
		done
		line="$base model: $(decl "$model" model) ($detail)"
	else
		mutant=${name_of[i]}
		line="$base mutant $mutant"
		caught=""
		if [ ! -d "${dir_of[i]}" ]; then
			ok=0
			line+=": never used in $(basename "$model")"
		else
			for check in $(checks_of "$model"); do
				res=${dir_of[i]}/$check/result
				[ -r "$res" ] || break
				read -r status states secs msg <"$res"
				if [ "$status" = error ]; then
					caught="$check: $msg"
				elif [ "$status" != "done" ]; then
					ok=0
					line+=": $check search $status${msg:+: $msg}"
				fi
				[ "$status" = "done" ] || break
			done
			if [ "$ok" = 1 ] && [ -z "$caught" ]; then
				ok=0
				line+=" not caught: every search passed"
			elif [ "$ok" = 1 ]; then
				line+=" caught ($caught)"
			fi
		fi
	fi
	if [ "$ok" = 1 ]; then
		echo "ok $i - $line"
	else
		echo "not ok $i - $line"
		failed=$((failed + 1))
		KEEP=1
		for check in $(checks_of "$model"); do
			if [ -r "${dir_of[i]}/$check/result" ]; then
				diag "${dir_of[i]}/$check"
			fi
		done
	fi
done
echo "# $failed of $n failed; ${SECONDS}s wall time, $JOBS searches at a time"
[ "$failed" -eq 0 ]
