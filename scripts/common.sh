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
