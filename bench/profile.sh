# Sourced by bench/load.sh --profile [seconds]: not run on its own.
#
# Profiles bare, floor, hs256, users_url and rotate10k one after another,
# each its own Caddy with an admin endpoint, under the same wrk load as the
# tables: a CPU profile and an allocation delta (/debug/pprof/allocs?seconds=N)
# over the same N seconds of load, then the heap. Saves them with the caddy
# binary to JWTUSER_BENCH_PROFILE_DIR, and prints the
# `go tool pprof -top -diff_base` comparisons (floor against bare, each
# jwt_user scenario against floor), the allocations per request and GC's
# share of the CPU.

pdir=${JWTUSER_BENCH_PROFILE_DIR:-bench/profiles-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$pdir"
cp "$work/caddy" "$pdir/caddy"
N=$PROFILE_SECONDS

start bare 1 "$BARE_BODY"
start floor 1 "$FLOOR_BODY"
start hs256 1 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_USER"
start users_url 1 "$USERS_URL_BLOCK
	}
	$RESPOND_USER"
start rotate10k 1 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_USER"
row bare bare hs bare floor
row floor floor hs bare floor
row hs256 hs256 hs bare floor
row users_url users_url hs bare floor
row rotate10k rotate10k rot10k bare floor
prof_rows=(bare floor hs256 users_url rotate10k)
for name in "${prof_rows[@]}"; do wait_port "${port_of[$name]}"; check "$name"; done
note "warming up"
for name in "${prof_rows[@]}"; do load "$name" 2; done

declare -A reqs_of
for name in "${prof_rows[@]}"; do
	note "profiling $name for ${N}s"
	admin=http://127.0.0.1:${admin_of[$name]}
	# The load runs a second longer on each side than the profiles.
	load "$name" $((N + 2)) &
	wrk_pid=$!
	sleep 1
	curl -sf -o "$pdir/$name.cpu.pb.gz" "$admin/debug/pprof/profile?seconds=$N" &
	cpu_pid=$!
	curl -sf -o "$pdir/$name.allocs.pb.gz" "$admin/debug/pprof/allocs?seconds=$N" &
	allocs_pid=$!
	wait "$cpu_pid" || die "$name: the CPU profile failed"
	wait "$allocs_pid" || die "$name: the allocation profile failed"
	wait "$wrk_pid" || die "$name: the load failed"
	curl -sf -o "$pdir/$name.heap.pb.gz" "$admin/debug/pprof/heap" || die "$name: the heap profile failed"
	# The req/s of a second run of the same length: the backgrounded load's
	# own figures stayed in its subshell.
	load "$name" "$N"
	reqs_of[$name]=$(awk -v r="$LOAD_RPS" -v n="$N" 'BEGIN { printf "%.0f", r * n }')
done

machine
echo "### Profiles (${N}s of load each)"
echo
echo "Saved in \`$pdir\` with the caddy binary. Allocations per request: the"
echo "allocation delta over the ${N}s divided by req/s × ${N}s (req/s from a run"
echo "of the same length right after). GC: cumulative share of the CPU samples in"
echo "runtime.gcBgMarkWorker (background marking), runtime.gcAssistAlloc"
echo "(marking charged to allocating goroutines) and runtime.mallocgc."
echo
# total "<n> total" of a pprof -top header, in the unit asked for.
pprof_total() { # file sample-index
	go tool pprof -sample_index="$2" -unit=B -top -nodecount=1 "$1" 2>/dev/null |
		awk '/^Showing nodes accounting for/ { t = $(NF - 1); sub(/B$/, "", t); print t + 0 }'
}
cum_share() { # cpu-profile function -> cum % of the samples
	go tool pprof -top -cum -nodecount=100000 "$1" 2>/dev/null | awk -v f="$2" '$6 == f { print $5; found = 1; exit } END { if (!found) print "0%" }'
}
echo "| scenario | req/s | alloc B/req | allocs/req | GC mark (bg) | GC assist | mallocgc | in-use heap MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for name in "${prof_rows[@]}"; do
	f=$pdir/$name
	bytes=$(pprof_total "$f.allocs.pb.gz" alloc_space)
	objs=$(go tool pprof -sample_index=alloc_objects -top -nodecount=1 "$f.allocs.pb.gz" 2>/dev/null |
		awk '/^Showing nodes accounting for/ { print $(NF - 1) }')
	inuse=$(pprof_total "$f.heap.pb.gz" inuse_space)
	printf "| %s | %.0f | %.0f | %s | %s | %s | %s | %.1f |\n" "$name" "$((reqs_of[$name] / N))" \
		"$(awk -v b="$bytes" -v r="${reqs_of[$name]}" 'BEGIN { print b / r }')" \
		"$(awk -v o="$objs" -v r="${reqs_of[$name]}" 'BEGIN {
			m = 1; if (o ~ /k$/) m = 1e3; else if (o ~ /M$/) m = 1e6; else if (o ~ /G$/) m = 1e9
			printf "%.1f", (o + 0) * m / r }')" \
		"$(cum_share "$f.cpu.pb.gz" runtime.gcBgMarkWorker)" "$(cum_share "$f.cpu.pb.gz" runtime.gcAssistAlloc)" \
		"$(cum_share "$f.cpu.pb.gz" runtime.mallocgc)" "$(awk -v b="$inuse" 'BEGIN { print b / 1048576 }')"
done
echo
show_cmd() { # title command...: the command and its table, as Markdown
	local title=$1; shift
	echo "#### $title"
	echo
	echo '```'
	echo "\$ $*"
	"$@" 2>/dev/null | sed -n '/^Showing\|flat%/,$p'
	echo '```'
	echo
}
diff_top() { # base scenario
	show_cmd "$2 against $1 (CPU)" \
		go tool pprof -top -nodecount=25 -diff_base="$pdir/$1.cpu.pb.gz" "$pdir/$2.cpu.pb.gz"
	show_cmd "$2 against $1 (allocated bytes)" \
		go tool pprof -sample_index=alloc_space -top -nodecount=15 -diff_base="$pdir/$1.allocs.pb.gz" "$pdir/$2.allocs.pb.gz"
}
echo "The CPU diffs compare the same ${N}s of one saturated core: a function's"
echo "time rises in a scenario both from its own cost per request and from the"
echo "number of requests; divide by the req/s above for a per-request figure."
echo
diff_top bare floor
for name in hs256 users_url rotate10k; do diff_top floor "$name"; done
