#!/usr/bin/env bash
# Installs what the benchmarks' peers need on Debian, as root:
#   - Apache ZooKeeper 3.8 (the `zookeeper` package: /usr/share/java/zookeeper.jar, with Java)
#     for bench/core-ops.ts and bench/lock.ts;
#   - redis-server, for the shared Redis the benches use (127.0.0.1:6379) and the soak's
#     private one (already there on most machines);
#   - the node peers (bullmq, node-zookeeper-client, redis-semaphore) are devDependencies:
#     `npm ci` brings them.
# Safe to run again: it installs only what is missing.
#
#   bash bench/setup.sh && npm run bench
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null || missing+=(zookeeper)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Only the jars and Java: the benches start a private ZooKeeper on a free port each time
# (bench/peers/zookeeper-server.ts), so Debian's service package (zookeeperd) is not needed.

[ -d node_modules/bullmq ] && [ -d node_modules/node-zookeeper-client ] && [ -d node_modules/redis-semaphore ] || npm ci

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "note: no Redis answers on 127.0.0.1:6379; start one (e.g. redis-server --daemonize yes --save '' --appendonly no)" >&2
  echo "      or point the benches at yours with BENCH_REDIS_URL=redis://host:port" >&2
fi
java -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.Version 2>/dev/null | head -1 || true
echo "bench peers ready"
