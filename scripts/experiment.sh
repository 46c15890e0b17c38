# Sourced by the experiment drivers scripts/mnist.sh and scripts/cnn.sh
# (not run on its own): "start_experiment USAGE DIR" checks that DIR was
# given, builds obs from the repository into a temporary $bin (removed on
# exit), creates DIR and changes into it; "run NAME COMMAND..." runs
# COMMAND under /usr/bin/time -v, its wall time and peak memory written to
# time-NAME.txt, behind $NICE if set (e.g. NICE="nice -n 19").

start_experiment() { # usage, dir
	if [[ $# -lt 2 || -z $2 ]]; then
		echo "usage: $0 DIR $1" >&2
		exit 2
	fi
	local out=$2
	case $out in
	/*) ;;
	*) out=$PWD/$out ;;
	esac
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$out"
	bin=$(mktemp -d)/obs
	trap 'rm -rf "$(dirname "$bin")"' EXIT
	(cd "$root" && go build -o "$bin" ./cmd/obs)
	cd "$out"
}

run() { # name, command...
	local name=$1
	shift
	/usr/bin/time -v -o "time-$name.txt" ${NICE:-} "$@"
}
