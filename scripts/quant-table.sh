#!/bin/sh
# quant-table.sh: every packed format and scheme of tl-quantize for one
# fp32 model and one ternary model of the same shape, as a Markdown
# table: tl-eval's loss (nats per token) on the held-out last 111540
# bytes of data/tinyshakespeare.txt (the tenth tl-train holds out),
# the change from the model's own checkpoint, the file size, and the
# bits per weight of the linear layers (their scales included).
# Post-training quantization of the fp32 model at every width sits
# beside the ternary model trained in the loop.
#
# usage: scripts/quant-table.sh [-s seconds] fp32.tl ternary.tl
# A model that does not exist is first trained, with tl-train's defaults
# and --time seconds (default 120), on byte tokens of the whole text.
set -eu
. "$(dirname "$0")/common.sh"
secs=120
opts "$0 [-s seconds] fp32.tl ternary.tl" 2 s=secs -- "$@"
shift $((OPTIND - 1))
fp32=$1 tern=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -e "$fp32" ] || [ ! -e "$tern" ]; then
	"$bin/tl-tokenize" < "$top/data/tinyshakespeare.txt" > "$tmp/all.tok"
	[ -e "$fp32" ] || "$bin/tl-train" -m "$fp32" --quant fp32 \
	    --time "$secs" "$tmp/all.tok" 2>/dev/null
	[ -e "$tern" ] || "$bin/tl-train" -m "$tern" --time "$secs" \
	    "$tmp/all.tok" 2>/dev/null
fi
tail -c 111540 "$top/data/tinyshakespeare.txt" | "$bin/tl-tokenize" > "$tmp/val.tok"

loss() {
	"$bin/tl-eval" -j -m "$1" "$tmp/val.tok" |
	    sed -n 's/.*"loss":\([^,]*\).*/\1/p'
}

size() {
	wc -c < "$1" | tr -d ' '
}

echo "| model | format | scheme | bits/weight | file bytes | loss | vs checkpoint |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for m in "$fp32" "$tern"; do
	name=$(basename "$m")
	base=$(loss "$m")
	printf '| %s | checkpoint | | 32 (+64 moments) | %s | %.4f | |\n' \
	    "$name" "$(size "$m")" "$base"
	for fs in f32:none q8:absmax q4:absmax tq2:absmean tq2:twn tq2:sign \
	    tq1:absmean tq1:twn tq1:sign; do
		f=${fs%:*} s=${fs#*:}
		if [ "$s" = none ] || [ "$s" = absmax ]; then sflag=; else sflag="-s $s"; fi
		"$bin/tl-quantize" -v -q "$f" $sflag -m "$m" -o "$tmp/p" \
		    2> "$tmp/v"
		bpw=$(sed -n 's/.*(\([0-9.]*\) bits per weight).*/\1/p' "$tmp/v")
		l=$(loss "$tmp/p")
		printf '| %s | %s | %s | %s | %s | %.4f | %+.4f |\n' "$name" \
		    "$f" "$s" "$bpw" "$(size "$tmp/p")" "$l" \
		    "$(echo "$l - $base" | bc -l)"
	done
done
