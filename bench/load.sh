#!/usr/bin/env bash
# Side-by-side load test of jwt_user against bare Caddy and forward_auth.
#
#   bench/load.sh           full run (7 rounds of 4s per scenario, about 6 minutes)
#   bench/load.sh --quick   2 rounds of 2s, for a quick look
#
# Builds Caddy from this checkout, starts every scenario as its own Caddy on
# loopback pinned to CPU 0 (the services they call too), drives them with
# wrk pinned to CPU 1, in interleaved rounds, and prints the medians as a
# Markdown table: req/s, p99 latency, peak RSS and the ratio to bare Caddy.
# Then it loads 100,000 users and reports memory and load time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=7 DURATION=4 CONNS=64
if [ "${1:-}" = "--quick" ]; then ROUNDS=2 DURATION=2; fi

if ! command -v wrk >/dev/null; then
	echo "installing wrk from Debian's packages" >&2
	sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get install -y wrk >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; }
fi
cpus=$(nproc)
pin_server="taskset -c 0" pin_load="taskset -c 1"
if [ "$cpus" -lt 2 ]; then pin_server="" pin_load=""; echo "one CPU: not pinning" >&2; fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "building caddy and benchtool" >&2
go build -o "$work/caddy" ./cmd/caddy
go build -o "$work/benchtool" ./bench/benchtool
SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 64)
"$work/benchtool" gen -dir "$work" -users 10000 -tokens 10000 -secret "$SECRET" -keys
mkdir "$work/big"
"$work/benchtool" gen -dir "$work/big" -users 100000 -tokens 0 -secret "$SECRET"
HS=$(head -n 1 "$work/tokens.txt")
RS=$(cat "$work/rsa.token")
ES=$(cat "$work/ec.token")

cat >"$work/rotate.lua" <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
request = function()
	i = i % #tokens + 1
	return wrk.format("GET", "/", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA

# The user and auth service, on the server's CPU: it is part of the system
# under test in the users_url and forward_auth scenarios.
$pin_server "$work/benchtool" serve -listen 127.0.0.1:19000 -users "$work/users.json" -secret "$SECRET" &
pids+=($!)

# name port handler-block
# bare_rs256 and bare_es256 send bare Caddy the RS256 and ES256 tokens, so
# those scenarios are compared with the same request (their tokens are
# longer than the HS256 one).
scenarios=(
	"bare 18080"
	"bare_rs256 18080"
	"bare_es256 18080"
	"hs256_no_placeholder 18087"
	"hs256 18081"
	"rs256 18082"
	"es256 18083"
	"rotate10k 18084"
	"users_url 18085"
	"forward_auth 18086"
)
site() { # name port -> Caddyfile
	local name=$1 port=$2 body
	case $name in
	bare) body='respond "user000000"' ;;
	hs256_no_placeholder) body="jwt_user {
		secret $SECRET
		users_file $work/users.json
	}
	respond \"user000000\"" ;;
	hs256 | rotate10k) body="jwt_user {
		secret $SECRET
		users_file $work/users.json
	}
	respond \"{jwt.user.username}\"" ;;
	rs256) body="jwt_user {
		public_key $work/rsa.pub.pem
		users_file $work/users.json
	}
	respond \"{jwt.user.username}\"" ;;
	es256) body="jwt_user {
		public_key $work/ec.pub.pem
		users_file $work/users.json
	}
	respond \"{jwt.user.username}\"" ;;
	users_url) body="jwt_user {
		secret $SECRET
		users_url http://127.0.0.1:19000/users/{jwt.identity}
		cache_ttl 1h
	}
	respond \"{jwt.user.username}\"" ;;
	forward_auth) body="forward_auth 127.0.0.1:19000 {
		uri /auth
		copy_headers X-User-Id
	}
	respond \"{http.request.header.X-User-Id}\"" ;;
	esac
	printf '{\n\tadmin off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n}\n:%s {\n\t%s\n}\n' "$port" "$body"
}
wait_port() {
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
	echo "port $1 did not come up" >&2; return 1
}
declare -A pid_of
for s in "${scenarios[@]}"; do
	read -r name port <<<"$s"
	case $name in bare_*) pid_of[$name]=${pid_of[bare]}; continue ;; esac
	site "$name" "$port" >"$work/$name.caddyfile"
	$pin_server "$work/caddy" run --config "$work/$name.caddyfile" --adapter caddyfile >"$work/$name.log" 2>&1 &
	pid_of[$name]=$!
	pids+=($!)
done
for s in "${scenarios[@]}"; do read -r name port <<<"$s"; wait_port "$port"; done

load() { # name port seconds -> "req/s p99_ms"
	local name=$1 port=$2 secs=$3 out
	local args=(-t1 "-c$CONNS" "-d${secs}s" --latency)
	case $name in
	bare) args+=(-H "Authorization: Bearer $HS") ;; # the same request, without the module
	hs256 | hs256_no_placeholder | users_url | forward_auth) args+=(-H "Authorization: Bearer $HS") ;;
	rs256 | bare_rs256) args+=(-H "Authorization: Bearer $RS") ;;
	es256 | bare_es256) args+=(-H "Authorization: Bearer $ES") ;;
	rotate10k) args+=(-s "$work/rotate.lua") ;;
	esac
	out=$(TOKENS="$work/tokens.txt" $pin_load wrk "${args[@]}" "http://127.0.0.1:$port/")
	if grep -q "Non-2xx" <<<"$out"; then echo "$name: non-2xx answers" >&2; grep "Non-2xx" <<<"$out" >&2; fi
	awk '
		/Requests\/sec:/ { rps = $2 }
		$1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
			p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
		END { printf "%s %s\n", rps, p99 }' <<<"$out"
}

echo "warming up" >&2
for s in "${scenarios[@]}"; do read -r name port <<<"$s"; load "$name" "$port" 1 >/dev/null; done

declare -A rps p99
for r in $(seq "$ROUNDS"); do
	echo "round $r of $ROUNDS" >&2
	for s in "${scenarios[@]}"; do
		read -r name port <<<"$s"
		read -r q l < <(load "$name" "$port" "$DURATION")
		rps[$name]+="$q "
		p99[$name]+="$l "
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
hwm_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo
echo "| scenario | req/s (median of $ROUNDS) | p99 ms | peak RSS MiB | ratio to bare, same request |"
echo "|---|---:|---:|---:|---:|"
for s in "${scenarios[@]}"; do
	read -r name port <<<"$s"
	case $name in
	rs256 | bare_rs256) base=bare_rs256 ;;
	es256 | bare_es256) base=bare_es256 ;;
	*) base=bare ;;
	esac
	m=$(median <<<"${rps[$name]}")
	b=$(median <<<"${rps[$base]}")
	printf "| %s | %.0f | %.2f | %s | %.2f |\n" "$name" "$m" "$(median <<<"${p99[$name]}")" "$(hwm_mib "${pid_of[$name]}")" "$(awk -v a="$m" -v b="$b" 'BEGIN { print a / b }')"
done
fa_rps=$(median <<<"${rps[forward_auth]}")
hs_rps=$(median <<<"${rps[hs256]}")
printf "\njwt_user (hs256) against forward_auth: %.2f x\n" "$(awk -v a="$hs_rps" -v b="$fa_rps" 'BEGIN { print a / b }')"

# Memory and load time with 100,000 users.
site_big() {
	printf '{\n\tadmin off\n\tpersist_config off\n}\n:%s {\n\t%s\n}\n' "$1" "$2"
}
site_big 18090 'respond "ok"' >"$work/big-bare.caddyfile"
site_big 18091 "jwt_user {
		secret $SECRET
		users_file $work/big/users.json
	}
	respond ok" >"$work/big-users.caddyfile"
start_big() { # caddyfile port -> "ms-until-serving pid"
	local t0 t1 pid
	t0=$(date +%s%N)
	$pin_server "$work/caddy" run --config "$1" --adapter caddyfile >/dev/null 2>&1 &
	pid=$!
	wait_port "$2"
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $pid"
}
read -r bare_ms bare_pid < <(start_big "$work/big-bare.caddyfile" 18090)
pids+=("$bare_pid")
read -r big_ms big_pid < <(start_big "$work/big-users.caddyfile" 18091)
pids+=("$big_pid")
curl -s -o /dev/null -H "Authorization: Bearer $HS" http://127.0.0.1:18091/
size=$(stat -c %s "$work/big/users.json")
bare_hwm=$(awk '/VmHWM/ { print $2 * 1024 }' "/proc/$bare_pid/status")
big_hwm=$(awk '/VmHWM/ { print $2 * 1024 }' "/proc/$big_pid/status")
echo
echo "100,000 users: file $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB"
awk -v b="$bare_hwm" -v u="$big_hwm" -v s="$size" 'BEGIN {
	printf "peak RSS: bare Caddy %.1f MiB, with the users %.1f MiB; the users add %.1f MiB = %.2f x the file\n",
		b / 1048576, u / 1048576, (u - b) / 1048576, (u - b) / s }'
echo "start until serving: bare ${bare_ms} ms, with the users ${big_ms} ms (the users add $((big_ms - bare_ms)) ms)"
