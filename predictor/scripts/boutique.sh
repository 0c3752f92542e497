#!/usr/bin/env bash
# boutique.sh replays the Nezha Online Boutique days (replay/nezha) as one
# Seer dataset per run of consecutive trace minutes, twice per run:
#   OUT/DAY/train/HH_MM  every fault with spans (--partial-faults): training
#                        labels (seer train --labels faults) for that day
#   OUT/DAY/eval/HH_MM   faults with full trace coverage only: what
#                        seer eval --faults ranks
# One dataset per run, not per day: the recorded minutes have gaps of up to
# 40 minutes, which a day-long dataset would hold as empty ticks, and
# seer train splits training and validation by dataset.
#
# usage: predictor/scripts/boutique.sh SEER ROOT OUT
#   SEER  the seer binary; ROOT the directory of day directories; OUT output
set -euo pipefail
seer=$1 root=$2 out=$3

stamp() { # DAY MINUTE-OF-DAY -> RFC 3339
	printf '%sT%02d:%02d:00Z' "$1" $(($2 / 60)) $(($2 % 60))
}

for daydir in "$root"/20*/; do
	day=$(basename "$daydir")
	mins=$(ls "$daydir/trace" | sed -n 's/^\([0-9][0-9]\)_\([0-9][0-9]\)_trace\.csv\.gz$/\1 \2/p' |
		awk '{print $1*60+$2}' | sort -n)
	runs=() first="" prev="" last_end=-1
	for m in $mins; do
		if [[ -n $prev && $m -eq $((prev + 1)) ]]; then
			prev=$m
			continue
		fi
		[[ -n $first ]] && runs+=("$first:$prev")
		first=$m prev=$m
	done
	[[ -n $first ]] && runs+=("$first:$prev")
	for r in "${runs[@]}"; do
		a=${r%:*} b=${r#*:}
		# Start a minute early when free: a fault may be injected in the
		# minute before the first file (its spans end up in later files).
		from=$a
		if ((a - 1 > last_end)); then from=$((a - 1)); fi
		last_end=$b
		name=$(printf '%02d_%02d' $((a / 60)) $((a % 60)))
		for mode in train eval; do
			extra=()
			[[ $mode == train ]] && extra=(--partial-faults)
			"$seer" replay --format nezha "$daydir" --from "$(stamp "$day" "$from")" \
				--to "$(stamp "$day" $((b + 1)))" --out "$out/$day/$mode/$name" --overwrite "${extra[@]}" >/dev/null
		done
	done
	echo "$day: ${#runs[@]} datasets"
done
