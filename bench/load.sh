#!/usr/bin/env bash
# Load test of jwt_user against two limits measured in the same run, each
# given the scenario's own request: bare Caddy, and the "floor" (a route of
# two handlers, `vars roles admin,editor` + `respond "ok {http.vars.roles}"`,
# what any configuration that uses the user pays in Caddy's own machinery).
#
#   bench/load.sh                      every section (about 17 minutes)
#   bench/load.sh --quick              every section, 2 rounds of 2s and
#                                      smaller scale (20,000 / 200,000 users)
#   bench/load.sh --sections standard,scale,million
#                                      only those sections (with or without --quick)
#   bench/load.sh --profile [seconds]  CPU and allocation profiles of bare,
#                                      floor, hs256, users_url and rotate10k
#                                      (default 10s each), and their diffs
#
# It builds Caddy from this checkout and starts each configuration as its
# own Caddy on loopback, pinned to CPU 0 with the services they call; wrk
# (1 thread, 64 connections) runs pinned to CPU 1. Rounds are interleaved:
# every row runs once per round. It prints a Markdown report.
#
# Environment:
#   JWTUSER_BENCH_PORT_BASE   first port (default 18100); uses base..base+99
#                             for sites, base+100.. for admin endpoints,
#                             base+200 and base+201 for the services
#   JWTUSER_BENCH_POSTGRES    PostgreSQL DSN for the SQL rows (default
#                             postgres://postgres@127.0.0.1:5432/test?sslmode=disable;
#                             set it empty to skip them). The script creates
#                             and drops table JWTUSER_BENCH_TABLE
#                             (default jwtuser_bench_users).
#   JWTUSER_BENCH_CACHE       where the RSA/EC keys and the tokens signed
#                             with them are kept across runs (default
#                             ~/.cache/jwtuser-bench); 100,000 RSA
#                             signatures take a minute or two
#   JWTUSER_BENCH_SCALE       distinct identities in the scale section (100000)
#   JWTUSER_BENCH_MILLION     users in the million section (1000000)
#   JWTUSER_BENCH_MEMLIMIT    the million section's second Caddy runs with
#                             GOMEMLIMIT = this × the file's size (1.7)
#   JWTUSER_BENCH_PROFILE_DIR where --profile saves (default bench/profiles-<date>)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=9 DURATION=4 CONNS=64
SCALE_ROUNDS=3 MILLION_ROUNDS=5
SCALE_N=${JWTUSER_BENCH_SCALE:-100000}
MILLION_N=${JWTUSER_BENCH_MILLION:-1000000}
SECTIONS=standard,scale,million
PROFILE=0 PROFILE_SECONDS=10 QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		QUICK=1 ROUNDS=2 DURATION=2 SCALE_ROUNDS=1 MILLION_ROUNDS=2
		SCALE_N=${JWTUSER_BENCH_SCALE:-20000} MILLION_N=${JWTUSER_BENCH_MILLION:-200000}
		;;
	--sections) SECTIONS=$2; shift ;;
	--profile)
		PROFILE=1 SECTIONS=none
		if [[ ${2:-} =~ ^[0-9]+$ ]]; then PROFILE_SECONDS=$2; shift; fi
		;;
	*) echo "usage: bench/load.sh [--quick] [--sections standard,scale,million] [--profile [seconds]]" >&2; exit 2 ;;
	esac
	shift
done
has_section() { [[ ,$SECTIONS, == *",$1,"* ]]; }

PORT_BASE=${JWTUSER_BENCH_PORT_BASE:-18100}
USERS_PORT=$((PORT_BASE + 200)) UPSTREAM_PORT=$((PORT_BASE + 201))
PG_DSN=${JWTUSER_BENCH_POSTGRES-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
PG_TABLE=${JWTUSER_BENCH_TABLE:-jwtuser_bench_users}
KEYDIR=${JWTUSER_BENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/jwtuser-bench}
BODY="ok admin,editor" # what every respond row answers: the users' roles are admin, editor

die() { echo "load.sh: $*" >&2; exit 1; }
note() { echo "$*" >&2; }

if ! command -v wrk >/dev/null; then
	note "installing wrk from Debian's packages"
	sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get install -y wrk >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; }
fi
cpus=$(nproc)
pin_server="taskset -c 0" pin_load="taskset -c 1"
if [ "$cpus" -lt 2 ]; then pin_server="" pin_load=""; note "one CPU: not pinning"; fi

work=$(mktemp -d)
pids=()
pg_table_made=0
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$pg_table_made" = 1 ]; then psql -q "$PG_DSN" -c "DROP TABLE IF EXISTS $PG_TABLE" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

t_start=$(date +%s)
note "building caddy and benchtool"
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/benchtool" ./bench/benchtool
SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 64)
mkdir -p "$KEYDIR" "$work/big"
note "writing users and tokens"
"$work/benchtool" gen -dir "$work" -users 10000 -tokens 10000 -secret "$SECRET" -keys -keydir "$KEYDIR"
if has_section scale || has_section standard; then
	rs_n=0 es_n=0
	if has_section scale; then
		rs_n=$SCALE_N es_n=$SCALE_N
		note "$SCALE_N RS256 and ES256 tokens: signed once, then reused from $KEYDIR"
	fi
	"$work/benchtool" gen -dir "$work/big" -users "$SCALE_N" -tsv -tokens "$SCALE_N" -secret "$SECRET" \
		-rs-tokens "$rs_n" -es-tokens "$es_n" -keydir "$KEYDIR"
fi
HS=$(head -n 1 "$work/tokens.txt")
RS=$(cat "$work/rsa.token")
ES=$(cat "$work/ec.token")

# One token per request, in turn, from the file named by $TOKENS. Each row
# keeps its place in the rotation across runs (in the file named by
# $OFFSET), so a short run does not send the first tokens again: every
# token comes round before any comes twice.
cat >"$work/rotate.lua" <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local offset_file = os.getenv("OFFSET")
i = 0
local f = io.open(offset_file, "r")
if f then i = tonumber(f:read("*l")) or 0; f:close() end
request = function()
	i = i % #tokens + 1
	return wrk.format("GET", "/", { ["Authorization"] = "Bearer " .. tokens[i] })
end
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
done = function()
	local f = io.open(offset_file, "w")
	f:write(tostring(threads[1]:get("i")), "\n")
	f:close()
end
LUA
# --- PostgreSQL -------------------------------------------------------------
pg_ok=0
if has_section standard || has_section scale; then
	if [ -z "$PG_DSN" ]; then
		note "JWTUSER_BENCH_POSTGRES is empty: the SQL rows are skipped"
	elif ! command -v psql >/dev/null; then
		note "no psql: the SQL rows are skipped (install postgresql-client, or set JWTUSER_BENCH_POSTGRES empty to silence this)"
	elif ! psql -q "$PG_DSN" -c "SELECT 1" >/dev/null 2>&1; then
		note "PostgreSQL unreachable at JWTUSER_BENCH_POSTGRES ($PG_DSN): the SQL rows are skipped"
	else
		note "loading $SCALE_N users into PostgreSQL table $PG_TABLE"
		pg_table_made=1
		psql -q -v ON_ERROR_STOP=1 "$PG_DSN" >/dev/null <<SQL
SET client_min_messages TO warning;
DROP TABLE IF EXISTS $PG_TABLE;
CREATE TABLE $PG_TABLE (id text PRIMARY KEY, username text NOT NULL, email text NOT NULL, roles jsonb NOT NULL, level int NOT NULL, address jsonb NOT NULL);
\\copy $PG_TABLE FROM '$work/big/users.tsv'
ANALYZE $PG_TABLE;
SQL
		pg_ok=1
		PG_VERSION=$(psql -Atq "$PG_DSN" -c "SHOW server_version" 2>/dev/null || echo "?")
	fi
fi
SQL_QUERY="SELECT to_jsonb(u) FROM $PG_TABLE u WHERE u.id = {jwt.identity}"

# --- services ---------------------------------------------------------------
# The user and auth service and the upstream run on the server's CPU: they
# are part of the system under test in the scenarios that call them.
users_for_service=$work/users.json
[ -f "$work/big/users.json" ] && users_for_service=$work/big/users.json
$pin_server "$work/benchtool" serve -listen "127.0.0.1:$USERS_PORT" -users "$users_for_service" -secret "$SECRET" &
pids+=($!)
$pin_server "$work/benchtool" upstream -listen "127.0.0.1:$UPSTREAM_PORT" &
pids+=($!)

# --- Caddy processes ----------------------------------------------------------
declare -A port_of pid_of admin_of log_of
next_port=$PORT_BASE

site() { # admin-port log-level handler-block -> Caddyfile
	local admin="admin off"
	[ "$1" != 0 ] && admin="admin 127.0.0.1:$1"
	printf '{\n\t%s\n\tpersist_config off\n\tlog {\n\t\tlevel %s\n\t}\n}\n:%s {\n\t%s\n}\n' "$admin" "$2" "$next_port" "$3"
}
# start proc admin(0|1) body [log-level]: a Caddy of its own for proc.
start() {
	local proc=$1 want_admin=$2 body=$3 level=${4:-ERROR} admin=0
	[ "$want_admin" = 1 ] && admin=$((next_port + 100))
	site "$admin" "$level" "$body" >"$work/$proc.caddyfile"
	port_of[$proc]=$next_port admin_of[$proc]=$admin log_of[$proc]=$work/$proc.log
	next_port=$((next_port + 1))
	[ "$next_port" -lt $((PORT_BASE + 100)) ] || die "more than 100 sites"
	# START_ENV: NAME=value words for this Caddy's environment (GOMEMLIMIT).
	${START_ENV:+env $START_ENV} $pin_server "$work/caddy" run --config "$work/$proc.caddyfile" --adapter caddyfile >"${log_of[$proc]}" 2>&1 &
	pid_of[$proc]=$!
	pids+=($!)
}
wait_port() { # port [poll-seconds]
	for _ in $(seq 3000); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep "${2:-0.1}"
	done
	die "port $1 did not come up"
}
adapts() { # handler-block -> whether this build's Caddyfile adapter accepts it
	printf ':1 {\n\t%s\n}\n' "$1" >"$work/probe.caddyfile"
	"$work/caddy" adapt --config "$work/probe.caddyfile" --adapter caddyfile >/dev/null 2>&1
}

jwt_file() { # key-line users-file [extra-lines] -> jwt_user block
	printf 'jwt_user {\n\t\t%s\n\t\tusers_file %s\n%s\t}' "$1" "$2" "${3:+		$3
}"
}
RESPOND_USER='respond "ok {jwt.user.roles}"'
RESPOND_STATIC="respond \"$BODY\""
SECRET_LINE="secret $SECRET"
BARE_BODY=$RESPOND_STATIC
FLOOR_BODY='vars roles admin,editor
	respond "ok {http.vars.roles}"'
USERS_URL_BLOCK="jwt_user {
		$SECRET_LINE
		users_url http://127.0.0.1:$USERS_PORT/users/{jwt.identity}
		cache_ttl 1h"
SQL_BLOCK="jwt_user {
		$SECRET_LINE
		users_sql postgres \"$PG_DSN\" {
			query \"$SQL_QUERY\"
		}
		cache_ttl 1h"
# The proxy rows: three request fields from the user, or the same values
# from vars, then reverse_proxy to benchtool's upstream, which answers 400
# if a field is missing or empty.
PROXY_TAIL="reverse_proxy 127.0.0.1:$UPSTREAM_PORT"

# --- rows ---------------------------------------------------------------------
# A row is a measured line of the report: a Caddy process (proc), the
# request it is sent (req), its limits (bare and floor rows given the same
# request) and its target (a ratio to the floor row).
declare -A proc_of req_of bare_of floor_of target_of expect_of rps_of p99_of
row() { # name proc req bare-row floor-row [target] [expected-body]
	proc_of[$1]=$2 req_of[$1]=$3 bare_of[$1]=$4 floor_of[$1]=$5 target_of[$1]=${6:-} expect_of[$1]=${7:-$BODY}
	rps_of[$1]="" p99_of[$1]=""
}

# The request of each kind: one Authorization header, or the rotation
# script over a token file.
req_args() { # req -> sets args
	case $1 in
	hs) args=(-H "Authorization: Bearer $HS") ;;
	rs) args=(-H "Authorization: Bearer $RS") ;;
	es) args=(-H "Authorization: Bearer $ES") ;;
	rot10k) args=(-s "$work/rotate.lua"); TOKENS=$work/tokens.txt ;;
	rot_hs) args=(-s "$work/rotate.lua"); TOKENS=$work/big/tokens.txt ;;
	rot_rs) args=(-s "$work/rotate.lua"); TOKENS=$work/big/rs_tokens.txt ;;
	rot_es) args=(-s "$work/rotate.lua"); TOKENS=$work/big/es_tokens.txt ;;
	*) die "unknown request kind $1" ;;
	esac
}
first_token() {
	case $1 in
	hs) echo "$HS" ;; rs) echo "$RS" ;; es) echo "$ES" ;;
	rot10k) head -n 1 "$work/tokens.txt" ;;
	rot_hs) head -n 1 "$work/big/tokens.txt" ;;
	rot_rs) head -n 1 "$work/big/rs_tokens.txt" ;;
	rot_es) head -n 1 "$work/big/es_tokens.txt" ;;
	esac
}

# check name: one request must answer 200 with the expected body, so a
# misconfigured row fails here instead of producing a fast number.
check() {
	local name=$1 proc=${proc_of[$1]} got code
	got=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $(first_token "${req_of[$name]}")" "http://127.0.0.1:${port_of[$proc]}/")
	code=${got##*$'\n'} got=${got%$'\n'*}
	[ "$code" = 200 ] && [ "$got" = "${expect_of[$name]}" ] ||
		die "$name answered $code \"$got\", expected 200 \"${expect_of[$name]}\" (log: $(tail -n 3 "${log_of[$proc]}"))"
}

# load name seconds: sets LOAD_RPS, LOAD_P99 (ms), LOAD_N; dies on any
# non-2xx answer or socket error other than timeouts.
load() {
	local name=$1 secs=$2 out args TOKENS=""
	req_args "${req_of[$name]}"
	out=$(TOKENS=$TOKENS OFFSET=$work/$name.offset $pin_load wrk -t1 "-c$CONNS" "-d${secs}s" --latency "${args[@]}" "http://127.0.0.1:${port_of[${proc_of[$name]}]}/")
	if grep -q "Non-2xx" <<<"$out"; then die "$name: $(grep "Non-2xx" <<<"$out") in ${secs}s; its log: $(tail -n 3 "${log_of[${proc_of[$name]}]}")"; fi
	if grep -qE "Socket errors: connect [1-9]|read [1-9]|write [1-9]" <<<"$out"; then die "$name: $(grep "Socket errors" <<<"$out")"; fi
	read -r LOAD_RPS LOAD_P99 LOAD_N < <(awk '
		/Requests\/sec:/ { rps = $2 }
		/requests in/ { n = $1 }
		$1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
			p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
		END { printf "%s %s %s\n", rps, p99, n }' <<<"$out")
	[ "${LOAD_N:-0}" -gt 0 ] || die "$name: no requests completed"
}

rounds() { # rounds seconds rows...
	local n=$1 secs=$2 r name
	shift 2
	for r in $(seq "$n"); do
		note "round $r of $n"
		for name in "$@"; do
			load "$name" "$secs"
			rps_of[$name]+="$LOAD_RPS " p99_of[$name]+="$LOAD_P99 "
		done
	done
}

# --- statistics ---------------------------------------------------------------
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minmax() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }'; }
# per-round ratios of two rows' req/s: rounds are interleaved, so a drift of
# the machine between rounds cancels out of them.
ratios() { paste -d' ' <(tr ' ' '\n' <<<"${rps_of[$1]}" | grep -v '^$') <(tr ' ' '\n' <<<"${rps_of[$2]}" | grep -v '^$') | awk '{ printf "%.4f ", $1 / $2 }'; }
hwm_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ratio_cell() { # a b -> "0.97 (0.95–0.99)" or "–"
	[ "$1" = "$2" ] && { echo "1"; return; }
	local r lo hi
	r=$(ratios "$1" "$2")
	read -r lo hi < <(minmax <<<"$r")
	printf "%.3f (%.3f–%.3f)" "$(median <<<"$r")" "$lo" "$hi"
}
verdict() { # row -> met / missed / within the noise
	local name=$1 t=${target_of[$1]} r lo hi m
	[ -n "$t" ] || return 0
	r=$(ratios "$name" "${floor_of[$name]}")
	read -r lo hi < <(minmax <<<"$r")
	m=$(median <<<"$r")
	awk -v lo="$lo" -v hi="$hi" -v m="$m" -v t="$t" 'BEGIN {
		if (lo >= t) print "met"
		else if (hi < t) print "**missed**"
		else if (m >= t) print "met within the noise"
		else print "**missed** within the noise" }'
}
table_explained=0
table() { # rows... (column names from COL_BARE and COL_FLOOR)
	local name m lo hi spread bare_col
	local bare_col="| ÷ bare " bare_sep="---:|"
	[ "${NO_BARE:-0}" = 1 ] && bare_col="" bare_sep=""
	echo "| scenario | req/s median | min–max | spread | p99 ms | peak RSS MiB ${bare_col}| ${COL_FLOOR:-÷ floor} | target (${COL_FLOOR:-÷ floor}) | |"
	echo "|---|---:|---:|---:|---:|---:|${bare_sep}---:|---|---|"
	for name in "$@"; do
		m=$(median <<<"${rps_of[$name]}")
		read -r lo hi < <(minmax <<<"${rps_of[$name]}")
		spread=$(awk -v lo="$lo" -v hi="$hi" -v m="$m" 'BEGIN { printf "%.1f %%", (hi - lo) / m * 100 }')
		bare_col="$(ratio_cell "$name" "${bare_of[$name]}") | "
		[ "${NO_BARE:-0}" = 1 ] && bare_col=""
		printf "| %s | %.0f | %.0f–%.0f | %s | %.2f | %s | %s%s | %s | %s |\n" "$name" "$m" "$lo" "$hi" "$spread" \
			"$(median <<<"${p99_of[$name]}")" "$(hwm_mib "${pid_of[${proc_of[$name]}]}")" \
			"$bare_col" "$(ratio_cell "$name" "${floor_of[$name]}")" \
			"${target_of[$name]:+≥ ${target_of[$name]}}" "$(verdict "$name")"
	done
	[ "$table_explained" = 0 ] || return 0
	table_explained=1
	cat <<EOF

req/s: median of the rounds, min–max across them, spread = (max − min) / median.
÷ bare and ÷ floor: the median of the per-round ratios to the bare and floor
rows given the same request (rows run interleaved, so each round's ratio
compares figures taken seconds apart), with their min–max. A target is met
when every round's ratio meets it, missed when none does, and "within the
noise" otherwise (the verdict then follows the median). Peak RSS is the
process's VmHWM; rows sharing a process (bare, floor) show the same figure.
EOF
}

# metrics and admin API readers, for rows whose Caddy has an admin endpoint
metric() { # proc metric-line-prefix -> value (0 if absent)
	curl -s "http://127.0.0.1:${admin_of[$1]}/metrics" | awk -v k="$2" 'index($0, k) == 1 { v = $NF + 0 } END { printf "%.0f\n", v }'
}
cache_field() { # proc field -> the first store's number in GET /jwt-user/cache
	curl -s "http://127.0.0.1:${admin_of[$1]}/jwt-user/cache" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}
service_requests() { curl -s "http://127.0.0.1:$USERS_PORT/stats" | grep -o '"user_requests":[0-9]*' | cut -d: -f2; }

machine() {
	echo "## Load test run"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
	echo "- $(go version | cut -d' ' -f3-), Caddy $("$work/caddy" version | cut -d' ' -f1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)${PG_VERSION:+, PostgreSQL $PG_VERSION}"
	echo "- Command: \`bench/load.sh ${ARGS_SEEN}\`; Caddy and the services pinned to CPU 0, wrk (1 thread, $CONNS connections) to CPU 1${pg_note:-}"
	echo
}
ARGS_SEEN=$(
	a=""
	[ "$QUICK" = 1 ] && a+="--quick "
	[ "$SECTIONS" != standard,scale,million ] && [ "$PROFILE" = 0 ] && a+="--sections $SECTIONS "
	[ "$PROFILE" = 1 ] && a+="--profile $PROFILE_SECONDS"
	echo "${a% }"
)
[ "$pg_ok" = 1 ] && pg_note="; PostgreSQL is not pinned (it runs where the kernel puts it)"

# --- profile mode -------------------------------------------------------------
if [ "$PROFILE" = 1 ]; then
	. bench/profile.sh
	exit 0
fi

machine

# --- standard section ---------------------------------------------------------
if has_section standard || has_section scale || has_section million; then
	start bare 0 "$BARE_BODY"
	start floor 0 "$FLOOR_BODY"
fi
if has_section standard; then
	# A second, identical floor: its ratio to the floor is what the method
	# measures for two configurations that cost the same.
	start floor_again 0 "$FLOOR_BODY"
	start hs256_static 0 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_STATIC"
	start hs256 0 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_USER"
	start rs256 0 "$(jwt_file "public_key $work/rsa.pub.pem" "$work/users.json")
	$RESPOND_USER"
	start es256 0 "$(jwt_file "public_key $work/ec.pub.pem" "$work/users.json")
	$RESPOND_USER"
	start rotate10k 0 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_USER"
	start users_url 0 "$USERS_URL_BLOCK
	}
	$RESPOND_USER"
	[ "$pg_ok" = 1 ] && start sql 0 "$SQL_BLOCK
	}
	$RESPOND_USER"
	start forward_auth 0 "forward_auth 127.0.0.1:$USERS_PORT {
		uri /auth
		copy_headers X-User-Roles
	}
	respond \"ok {http.request.header.X-User-Roles}\""
	start proxy_vars 0 "route {
		vars {
			user_id user000000
			roles admin,editor
			email user000000@example.com
		}
		request_header X-User-Id {http.vars.user_id}
		request_header X-User-Roles {http.vars.roles}
		request_header X-User-Email {http.vars.email}
		$PROXY_TAIL
	}"
	start proxy_user 0 "route {
		$(jwt_file "$SECRET_LINE" "$work/users.json")
		request_header X-User-Id {jwt.user.username}
		request_header X-User-Roles {jwt.user.roles}
		request_header X-User-Email {jwt.user.email}
		$PROXY_TAIL
	}"

	row bare_hs256 bare hs bare_hs256 floor_hs256
	row floor_hs256 floor hs bare_hs256 floor_hs256
	row floor_again floor_again hs bare_hs256 floor_hs256
	row hs256_static hs256_static hs bare_hs256 floor_hs256
	row hs256 hs256 hs bare_hs256 floor_hs256 0.97
	row users_url users_url hs bare_hs256 floor_hs256 0.97
	[ "$pg_ok" = 1 ] && row sql sql hs bare_hs256 floor_hs256 0.97
	row forward_auth forward_auth hs bare_hs256 floor_hs256
	row bare_rs256 bare rs bare_rs256 floor_rs256
	row floor_rs256 floor rs bare_rs256 floor_rs256
	row rs256 rs256 rs bare_rs256 floor_rs256 0.97
	row bare_es256 bare es bare_es256 floor_es256
	row floor_es256 floor es bare_es256 floor_es256
	row es256 es256 es bare_es256 floor_es256 0.97
	row bare_rotate10k bare rot10k bare_rotate10k floor_rotate10k
	row floor_rotate10k floor rot10k bare_rotate10k floor_rotate10k
	row rotate10k rotate10k rot10k bare_rotate10k floor_rotate10k 0.97
	row proxy_vars proxy_vars hs bare_hs256 proxy_vars "" ok
	row proxy_user proxy_user hs bare_hs256 proxy_vars 0.95 ok
	std_rows=(bare_hs256 floor_hs256 floor_again hs256_static hs256 users_url)
	[ "$pg_ok" = 1 ] && std_rows+=(sql)
	std_rows+=(forward_auth bare_rs256 floor_rs256 rs256 bare_es256 floor_es256 es256
		bare_rotate10k floor_rotate10k rotate10k proxy_vars proxy_user)
fi
for proc in "${!port_of[@]}"; do wait_port "${port_of[$proc]}"; done

if has_section standard; then
	for name in "${std_rows[@]}"; do check "$name"; done
	note "warming up"
	for name in "${std_rows[@]}"; do load "$name" 1; done
	rounds "$ROUNDS" "$DURATION" "${std_rows[@]}"

	echo "### Every scenario against bare Caddy and the floor ($ROUNDS rounds of ${DURATION}s)"
	echo
	cat <<EOF
Every row answers \`$BODY\` (the proxy rows: the upstream's \`ok\`).
bare: \`respond "$BODY"\`. floor: \`vars roles admin,editor\` + \`respond "ok {http.vars.roles}"\`.
The jwt_user rows load their users from a file of 10,000 users (users_url:
benchtool's user service, sql: PostgreSQL, both warm) and answer
\`respond "ok {jwt.user.roles}"\`, except hs256_static (\`respond "$BODY"\`).
forward_auth: Caddy's forward_auth to benchtool's auth service.
proxy_user: jwt_user, three \`request_header\` lines from \`{jwt.user.username}\`,
\`{jwt.user.roles}\`, \`{jwt.user.email}\`, and reverse_proxy to benchtool's
upstream; proxy_vars: the same route with the same values from \`vars\`
(its ÷ floor column and proxy_user's are ÷ proxy_vars). floor_again is a
second Caddy with the floor's configuration: its ratio to the floor is
what this method measures for two configurations of equal cost, the noise
every other ratio carries.

EOF
	table "${std_rows[@]}"
	awk -v a="$(median <<<"${rps_of[hs256]}")" -v b="$(median <<<"${rps_of[forward_auth]}")" 'BEGIN {
		printf "\njwt_user (hs256) against forward_auth: %.2f ×\n\n", a / b }'
fi

# --- scale section ------------------------------------------------------------
if has_section scale; then
	note "scale section: $SCALE_N distinct identities"
	SIZED_ENTRIES=$((SCALE_N + SCALE_N / 5))
	token_cache_line=""
	for candidate in "token_cache $SIZED_ENTRIES 256MiB" "token_cache $SIZED_ENTRIES $((256 << 20))" "token_cache $SIZED_ENTRIES"; do
		if adapts "$(jwt_file "$SECRET_LINE" "$work/users.json" "$candidate")
	respond ok"; then token_cache_line=$candidate; break; fi
	done
	big_users=$work/big/users.json
	scale_rows=(bare_rs_scale floor_rs_scale rs256_scale)
	start rs256_scale 1 "$(jwt_file "public_key $work/rsa.pub.pem" "$big_users")
	$RESPOND_USER"
	start es256_scale 1 "$(jwt_file "public_key $work/ec.pub.pem" "$big_users")
	$RESPOND_USER"
	row bare_rs_scale bare rot_rs bare_rs_scale floor_rs_scale
	row floor_rs_scale floor rot_rs bare_rs_scale floor_rs_scale
	row rs256_scale rs256_scale rot_rs bare_rs_scale floor_rs_scale
	row bare_es_scale bare rot_es bare_es_scale floor_es_scale
	row floor_es_scale floor rot_es bare_es_scale floor_es_scale
	row es256_scale es256_scale rot_es bare_es_scale floor_es_scale
	if [ -n "$token_cache_line" ]; then
		start rs256_scale_sized 1 "$(jwt_file "public_key $work/rsa.pub.pem" "$big_users" "$token_cache_line")
	$RESPOND_USER"
		start es256_scale_sized 1 "$(jwt_file "public_key $work/ec.pub.pem" "$big_users" "$token_cache_line")
	$RESPOND_USER"
		row rs256_scale_sized rs256_scale_sized rot_rs bare_rs_scale floor_rs_scale
		row es256_scale_sized es256_scale_sized rot_es bare_es_scale floor_es_scale
		scale_rows+=(rs256_scale_sized)
	else
		note "this build's jwt_user has no token_cache subdirective: the *_scale_sized rows are skipped"
	fi
	scale_rows+=(bare_es_scale floor_es_scale es256_scale)
	[ -n "$token_cache_line" ] && scale_rows+=(es256_scale_sized)
	# The store rows size the token cache too, so they measure the user
	# cache at this scale rather than an HS256 verification per request.
	start users_url_scale 1 "$USERS_URL_BLOCK
		cache_size $SCALE_N
		$token_cache_line
	}
	$RESPOND_USER"
	row bare_hs_scale bare rot_hs bare_hs_scale floor_hs_scale
	row floor_hs_scale floor rot_hs bare_hs_scale floor_hs_scale
	row users_url_scale users_url_scale rot_hs bare_hs_scale floor_hs_scale
	scale_rows+=(bare_hs_scale floor_hs_scale users_url_scale)
	if [ "$pg_ok" = 1 ]; then
		start sql_scale 1 "$SQL_BLOCK
		cache_size $SCALE_N
		$token_cache_line
	}
	$RESPOND_USER"
		row sql_scale sql_scale rot_hs bare_hs_scale floor_hs_scale
		scale_rows+=(sql_scale)
	fi
	for name in "${scale_rows[@]}"; do wait_port "${port_of[${proc_of[$name]}]}"; check "$name"; done

	# Warm-up: the caches sized for every identity are filled (until a 2s
	# load sees ≥ 99 % hits, at most 60s); the others get one 2s load.
	declare -A warm_note
	token_hit_ratio() { # proc: sets HR, hits / ok requests since the last call for proc
		local h o
		h=$(metric "$1" "caddy_jwt_user_token_cache_hits_total")
		o=$(metric "$1" 'caddy_jwt_user_requests_total{outcome="ok"}')
		HR=$(awk -v h="$h" -v o="$o" -v ph="${prev_h[$1]:-0}" -v po="${prev_o[$1]:-0}" 'BEGIN { if (o > po) printf "%.4f\n", (h - ph) / (o - po); else print 0 }')
		prev_h[$1]=$h prev_o[$1]=$o
	}
	user_hit_ratio() { # proc: sets HR, user cache hits / lookups since the last call for proc
		local h m
		h=$(cache_field "$1" hits) m=$(cache_field "$1" misses)
		HR=$(awk -v h="$h" -v m="$m" -v ph="${prev_h[$1]:-0}" -v pm="${prev_m[$1]:-0}" 'BEGIN { d = (h - ph) + (m - pm); if (d > 0) printf "%.4f\n", (h - ph) / d; else print 0 }')
		prev_h[$1]=$h prev_m[$1]=$m
	}
	declare -A prev_h prev_o prev_m
	note "warming up"
	for name in "${scale_rows[@]}"; do
		proc=${proc_of[$name]}
		case $name in
		*_sized | users_url_scale | sql_scale)
			t0=$(date +%s%N) misses0=$(cache_field "$proc" misses 2>/dev/null || echo 0) svc0=$(service_requests)
			for _ in $(seq 30); do
				load "$name" 2
				case $name in *_sized) token_hit_ratio "$proc" ;; *) user_hit_ratio "$proc" ;; esac
				hr=$HR
				awk -v r="$hr" 'BEGIN { exit !(r >= 0.99) }' && break
			done
			secs=$(awk -v t0="$t0" -v t1="$(date +%s%N)" 'BEGIN { printf "%.1f", (t1 - t0) / 1e9 }')
			case $name in
			*_sized) warm_note[$name]="filled in ${secs}s (last 2s: token cache hit ratio $hr)" ;;
			*)
				m=$(cache_field "$proc" misses)
				warm_note[$name]="filled in ${secs}s: $m store loads, $(awk -v m="$m" -v m0="${misses0:-0}" -v s="$secs" 'BEGIN { printf "%.0f", (m - m0) / s }') per second while filling (last 2s: user cache hit ratio $hr)"
				;;
			esac
			note "$name: ${warm_note[$name]}"
			;;
		*) load "$name" 2 ;;
		esac
	done
	# Counters at the start of the measured rounds.
	for name in "${scale_rows[@]}"; do
		proc=${proc_of[$name]}
		[ "${admin_of[$proc]}" != 0 ] || continue
		case $name in *users_url* | sql*) user_hit_ratio "$proc" ;; *) token_hit_ratio "$proc" ;; esac
	done
	svc_before=$(service_requests)
	declare -A misses_before
	for p in users_url_scale sql_scale; do [ -n "${port_of[$p]:-}" ] && misses_before[$p]=$(cache_field "$p" misses); done
	rounds "$SCALE_ROUNDS" "$DURATION" "${scale_rows[@]}"
	measured=$((SCALE_ROUNDS * DURATION))

	echo "### $SCALE_N distinct identities in rotation ($SCALE_ROUNDS rounds of ${DURATION}s: fewer than above, so wider spreads)"
	echo
	cat <<EOF
Each row sends $SCALE_N distinct tokens in turn, one per user, through the
same wrk script as its bare and floor rows. rs256_scale / es256_scale: a
users file of $SCALE_N users and the default verified-token cache;
*_sized: the same with \`${token_cache_line:-token_cache (not in this build)}\`.
users_url_scale and sql_scale: HS256 tokens, \`cache_size $SCALE_N\`,
\`cache_ttl 1h\` and the same token cache as *_sized, warmed until a 2s
load saw ≥ 99 % hits.

EOF
	table "${scale_rows[@]}"
	echo
	echo "| scenario | measured over | cache hit ratio | store requests/s | VmRSS MiB | VmHWM MiB | warm-up |"
	echo "|---|---|---:|---:|---:|---:|---|"
	for name in "${scale_rows[@]}"; do
		proc=${proc_of[$name]}
		[ "${admin_of[$proc]}" != 0 ] || continue
		case $name in
		users_url_scale | sql_scale)
			user_hit_ratio "$proc"
			hr=$HR
			m=$(cache_field "$proc" misses)
			store=$(awk -v m="$m" -v m0="${misses_before[$proc]}" -v s="$measured" 'BEGIN { printf "%.1f", (m - m0) / s }')
			what="user cache"
			if [ "$name" = users_url_scale ]; then
				store+=" (service counted $(awk -v a="$(service_requests)" -v b="$svc_before" -v s="$measured" 'BEGIN { printf "%.1f", (a - b) / s }'))"
			fi
			;;
		*) token_hit_ratio "$proc"; hr=$HR store="–" what="token cache" ;;
		esac
		echo "| $name | ${measured}s of load | $hr ($what) | $store | $(rss_mib "${pid_of[$proc]}") | $(hwm_mib "${pid_of[$proc]}") | ${warm_note[$name]:-one 2s load} |"
	done
	cat <<EOF

Hit ratios and store requests are counted over the measured rounds only
(Caddy's metrics for the token cache: token_cache_hits_total ÷
requests_total{outcome="ok"}; the admin API's GET /jwt-user/cache for the
user cache, whose misses are the store's loads; users_url also counts at
the user service).

EOF
fi

# --- million section ----------------------------------------------------------
if has_section million; then
	note "million section: writing $MILLION_N users"
	mkdir "$work/million"
	"$work/benchtool" gen -dir "$work/million" -users "$MILLION_N" -tokens 0
	mfile=$work/million/users.json
	size=$(stat -c %s "$mfile")
	# timed_start proc admin body [level]: sets TIMED_MS, from start until
	# the first 200 (the users are loaded before Caddy listens).
	timed_start() {
		local t0
		t0=$(date +%s%N)
		start "$@"
		for _ in $(seq 6000); do
			[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $HS" "http://127.0.0.1:${port_of[$1]}/")" = 200 ] && break
			kill -0 "${pid_of[$1]}" 2>/dev/null || die "$1 exited: $(tail -n 5 "${log_of[$1]}")"
			sleep 0.01
		done
		TIMED_MS=$((($(date +%s%N) - t0) / 1000000))
	}
	timed_start bare_start 0 "$BARE_BODY"
	bare_ms=$TIMED_MS
	timed_start million_hs256 0 "$(jwt_file "$SECRET_LINE" "$mfile")
	$RESPOND_USER" INFO
	million_ms=$TIMED_MS
	# The same users under a soft memory limit, as README advises for a
	# large file: the users index holds no pointers, so the extra
	# collections GOMEMLIMIT brings cost little.
	memlimit=$(awk -v s="$size" -v x="${JWTUSER_BENCH_MEMLIMIT:-1.7}" 'BEGIN { printf "%d", s * x }')
	# Its own copy of the file, so the reload below is the other Caddy's alone.
	cp "$mfile" "$work/million/users-memlimit.json"
	START_ENV="GOMEMLIMIT=$memlimit" timed_start million_memlimit 0 "$(jwt_file "$SECRET_LINE" "$work/million/users-memlimit.json")
	$RESPOND_USER"
	kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
	mpid=${pid_of[million_hs256]} bpid=${pid_of[bare_start]}
	hwm_load=$(kb "$mpid" VmHWM) rss_load=$(kb "$mpid" VmRSS) bare_rss=$(kb "$bpid" VmRSS)

	if [ -z "${port_of[hs256]:-}" ]; then
		start hs256 0 "$(jwt_file "$SECRET_LINE" "$work/users.json")
	$RESPOND_USER"
		wait_port "${port_of[hs256]}"
	fi
	row hs256_10k hs256 hs hs256_10k hs256_10k
	row hs256_1m million_hs256 hs hs256_10k hs256_10k 0.98
	row hs256_1m_memlimit million_memlimit hs hs256_10k hs256_10k 0.98
	check hs256_10k
	check hs256_1m
	check hs256_1m_memlimit
	load hs256_10k 1
	load hs256_1m 1
	load hs256_1m_memlimit 1
	rounds "$MILLION_ROUNDS" "$DURATION" hs256_10k hs256_1m hs256_1m_memlimit
	rss_after=$(kb "$mpid" VmRSS) hwm_after=$(kb "$mpid" VmHWM)
	mlpid=${pid_of[million_memlimit]}
	rss_ml=$(kb "$mlpid" VmRSS) hwm_ml=$(kb "$mlpid" VmHWM)

	# Hot reload: a new file (same users) renamed over the old one, as a
	# deploy would; VmHWM is reset first (clear_refs 5), so it measures the
	# reload alone. RSS is sampled every 50ms from the change to 5s after
	# the reload is logged.
	reloads_before=$(grep -c "reloaded" "${log_of[million_hs256]}" || true)
	echo 5 >"/proc/$mpid/clear_refs" || note "cannot reset VmHWM: the reload's peak includes the load's"
	rss_before_reload=$(kb "$mpid" VmRSS)
	cp "$mfile" "$mfile.new"
	t0=$(date +%s%N)
	mv "$mfile.new" "$mfile"
	: >"$work/rss.samples"
	reloaded_ms="" end_ns=$((t0 + 60000000000))
	while [ "$(date +%s%N)" -lt "$end_ns" ]; do
		now=$(date +%s%N)
		echo "$(((now - t0) / 1000000)) $(kb "$mpid" VmRSS)" >>"$work/rss.samples"
		if [ -z "$reloaded_ms" ] && [ "$(grep -c "reloaded" "${log_of[million_hs256]}" || true)" -gt "$reloads_before" ]; then
			reloaded_ms=$(((now - t0) / 1000000)) end_ns=$((now + 5000000000))
		fi
		sleep 0.05
	done
	[ -n "$reloaded_ms" ] || die "the $MILLION_N-user file was not reloaded within 60s: $(tail -n 3 "${log_of[million_hs256]}")"
	hwm_reload=$(kb "$mpid" VmHWM) rss_5s=$(kb "$mpid" VmRSS)
	check hs256_1m
	# Under load the collector runs soon and frees the old copy; idle, it
	# may wait for its two-minute forced cycle.
	load hs256_1m 2
	rss_loaded=$(kb "$mpid" VmRSS)
	# How long RSS stayed above the pre-reload RSS plus half the users'
	# share (the users' share: RSS after the load minus bare Caddy's): the
	# time two copies were held.
	held_ms=$(awk -v base="$rss_before_reload" -v half="$(((rss_load - bare_rss) / 2))" '
		$2 > base + half { if (first == "") first = $1; last = $1 }
		END { print (first == "") ? 0 : last - first + 50 }' "$work/rss.samples")

	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	xfile() { awk -v k="$1" -v s="$size" 'BEGIN { printf "%.2f", k * 1024 / s }'; }
	echo "### A million users ($MILLION_N users, $MILLION_ROUNDS rounds of ${DURATION}s)"
	echo
	echo "The users file: $(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }') ($MILLION_N users, the form of the 10,000-user file)."
	echo
	echo "| | figure | ÷ file size | target |"
	echo "|---|---:|---:|---|"
	echo "| start until serving: bare Caddy | ${bare_ms} ms | | |"
	echo "| start until serving: $MILLION_N users (the first 200) | ${million_ms} ms | | load < 2 s: users add $((million_ms - bare_ms)) ms |"
	echo "| bare Caddy VmRSS | $(mib "$bare_rss") MiB | | |"
	echo "| VmHWM after loading the users | $(mib "$hwm_load") MiB | $(xfile "$hwm_load") | |"
	echo "| VmRSS after loading the users | $(mib "$rss_load") MiB | $(xfile "$rss_load") | < 2 × |"
	echo "| VmRSS after loading the users − bare VmRSS | $(mib $((rss_load - bare_rss))) MiB | $(xfile $((rss_load - bare_rss))) | |"
	echo "| VmRSS after the hit-path rounds | $(mib "$rss_after") MiB | $(xfile "$rss_after") | < 2 × |"
	echo "| VmHWM after the hit-path rounds | $(mib "$hwm_after") MiB | $(xfile "$hwm_after") | |"
	echo "| with GOMEMLIMIT=$(mib $((memlimit / 1024)))MiB: VmRSS after the hit-path rounds | $(mib "$rss_ml") MiB | $(xfile "$rss_ml") | < 2 × |"
	echo "| with GOMEMLIMIT=$(mib $((memlimit / 1024)))MiB: VmHWM after the hit-path rounds | $(mib "$hwm_ml") MiB | $(xfile "$hwm_ml") | |"
	echo "| hot reload: file renamed → \"reloaded\" logged | ${reloaded_ms} ms | | |"
	echo "| VmRSS before the reload | $(mib "$rss_before_reload") MiB | $(xfile "$rss_before_reload") | |"
	echo "| VmHWM across the reload (reset before it) | $(mib "$hwm_reload") MiB | $(xfile "$hwm_reload") | |"
	echo "| VmRSS 5 s after the reload (idle) | $(mib "$rss_5s") MiB | $(xfile "$rss_5s") | |"
	echo "| VmRSS after 2 s more of load | $(mib "$rss_loaded") MiB | $(xfile "$rss_loaded") | |"
	echo "| time RSS stayed above (before + half the users' share), sampled idle until 5 s after the reload | ${held_ms} ms | | only while swapping |"
	echo
	echo "Hit path, hs256 with $MILLION_N users against 10,000 users (the standard hs256 configuration), interleaved:"
	echo
	NO_BARE=1 COL_FLOOR="÷ 10k users" table hs256_10k hs256_1m hs256_1m_memlimit
	echo
	echo "hs256_1m_memlimit: the same 1,000,000 users with GOMEMLIMIT=$memlimit (JWTUSER_BENCH_MEMLIMIT=${JWTUSER_BENCH_MEMLIMIT:-1.7} × the file)."
	echo
fi

note "done in $(($(date +%s) - t_start))s"
