#!/bin/bash
# Interleaved fixed-rate windows over proxies listening on loopback ports (relay.mjs's
# variants, `weft proxy`, nginx): CPU µs per request from /proc/PID/task/*/schedstat (all
# threads, nanoseconds), and hey's p99. Prints each port's median; with two ports, also
# the median of the per-round ratios (second / first).
#   windows.sh ROUNDS SECONDS PORT [PORT ...]
set -euo pipefail
rounds=$1 secs=$2
shift 2
pid_of() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
out=$(mktemp)
for _ in $(seq "$rounds"); do
  for port in "$@"; do
    pid=$(pid_of "$port")
    [ -n "$pid" ] || { echo "nothing listens on 127.0.0.1:$port" >&2; exit 2; }
    c0=$(cpu_ns "$pid")
    hey -z "${secs}s" -c 16 -q 62.5 "http://127.0.0.1:$port/" > "$out.hey"
    c1=$(cpu_ns "$pid")
    rps=$(awk '/Requests\/sec/ { print $2 }' "$out.hey")
    p99=$(awk '/99% in/ { print $3 }' "$out.hey")
    echo "$port $c0 $c1 $rps $secs $p99" >> "$out"
  done
done
python3 - "$out" "$@" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ports = sys.argv[2:]
cost = {p: [] for p in ports}
p99 = {p: [] for p in ports}
for port, c0, c1, rps, secs, q in rows:
    cost[port].append((int(c1) - int(c0)) / 1e3 / (float(rps) * float(secs)))
    p99[port].append(float(q) * 1e3)
for p in ports:
    print(f'{p}: {statistics.median(cost[p]):.1f} µs/request, p99 {statistics.median(p99[p]):.2f} ms ({len(cost[p])} windows)')
if len(ports) == 2:
    ratios = [b / a for a, b in zip(cost[ports[0]], cost[ports[1]])]
    print(f'{ports[1]}/{ports[0]} per round: median {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)')
PY
rm -f "$out" "$out.hey"
