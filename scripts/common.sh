# common.sh: what the scripts of scripts/ share, sourced by them with
# . "$(dirname "$0")/common.sh" (POSIX sh, also under bash): where the
# tree and its programs are, and the parsing of their options.
#
# Sets top (the tree, an absolute path) and bin ($top/bin; a script's
# option may point it elsewhere).
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin

# opts USAGE NARGS SPEC... -- ARGS...: parse the options at the head of
# ARGS with getopts, as a script's own loop would; the script then
# drops them with shift $((OPTIND - 1)).  Each SPEC is L=VAR (option -L
# takes an argument, which goes into VAR) or L=VAR=VALUE (option -L
# takes none and sets VAR to VALUE).  NARGS is how many arguments must
# follow the options: N exactly, N- at least N, or - any number.  An
# unknown option (which getopts reports) or a wrong count prints
# "usage: USAGE" on stderr and exits 2.
opts() {
	_usage=$1 _nargs=$2
	shift 2
	_spec= _map=
	while [ "$1" != -- ]; do
		case $1 in
		?=*=*) _spec=$_spec${1%%=*} ;;
		*) _spec=$_spec${1%%=*}: ;;
		esac
		_map="$_map $1"
		shift
	done
	shift
	OPTIND=1
	while getopts "$_spec" _o; do
		_var=
		for _m in $_map; do
			[ "${_m%%=*}" = "$_o" ] && _var=${_m#*=}
		done
		case $_var in
		'') echo "usage: $_usage" >&2; exit 2 ;;
		*=*) eval "${_var%%=*}=\${_var#*=}" ;;
		*) eval "$_var=\$OPTARG" ;;
		esac
	done
	_left=$(($# - OPTIND + 1))
	case $_nargs in
	-) ;;
	*-) [ "$_left" -ge "${_nargs%-}" ] || { echo "usage: $_usage" >&2; exit 2; } ;;
	*) [ "$_left" -eq "$_nargs" ] || { echo "usage: $_usage" >&2; exit 2; } ;;
	esac
}

# mmm [SCALE]: "min A median B max C" of the numbers on standard input,
# one a line, each divided by SCALE (default 1), with two decimals.
mmm() {
	sort -n | awk -v s="${1:-1}" '{ v[NR] = $1 / s }
	    END { printf "min %.2f median %.2f max %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# packed_model DIR FORMAT [TL-INIT FLAGS...]: an untrained model (speed
# does not depend on the weights) made by tl-init as DIR/m.tl and
# packed by tl-quantize -q FORMAT as DIR/m.tlq; without flags the
# generation issue's reference shape (4 layers, width 256, 4 heads,
# FFN 1024, context 256).  Sets shape to the flags and ctx to the
# model's context.
packed_model() {
	_dir=$1 _fmt=$2
	shift 2
	shape="--layers 4 --dim 256 --heads 4 --ffn 1024 --ctx 256"
	[ $# -gt 0 ] && shape="$*"
	"$bin/tl-init" -o "$_dir/m.tl" $shape
	"$bin/tl-quantize" -q "$_fmt" -m "$_dir/m.tl" -o "$_dir/m.tlq"
	ctx=$(od -A n -t u4 -j 32 -N 4 "$_dir/m.tlq" | tr -d ' ')
}
