#!/usr/bin/env bash
# Makes sure the services the integration tests use answer on their ports, starting any that is
# down with the same command the machine image uses. Exits non-zero naming each one that still
# does not answer. Usage: scripts/services.sh [--check]   (--check: report only, start nothing)
set -euo pipefail

check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

# name|port|start command
services=(
  "PostgreSQL|5432|pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
  "MariaDB|3306|start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
  "Redis|6379|redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
  "RabbitMQ|5672|rabbitmq-server -detached"
  "Mosquitto|1883|mosquitto -d -c /etc/mosquitto/mosquitto.conf"
  "NATS|4222|start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
)

answers() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() { # port seconds
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    answers "$1" && return 0
    sleep 0.5
  done
  return 1
}

started=()
for entry in "${services[@]}"; do
  IFS='|' read -r name port cmd <<<"$entry"
  if answers "$port"; then
    echo "services: $name answers on 127.0.0.1:$port"
    continue
  fi
  if $check_only; then
    continue
  fi
  echo "services: $name is down on 127.0.0.1:$port; starting: $cmd"
  bash -c "$cmd" >/dev/null 2>&1 || echo "services: start command for $name returned non-zero"
  started+=("$entry")
done

missing=()
for entry in "${services[@]}"; do
  IFS='|' read -r name port _ <<<"$entry"
  # RabbitMQ takes the longest to open its port after a start.
  if ! wait_for "$port" "$($check_only && echo 1 || echo 90)"; then
    missing+=("$name (127.0.0.1:$port)")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "services: NOT answering: ${missing[*]}" >&2
  echo "services: the integration tests need them; see README 'Running the tests'." >&2
  exit 1
fi
((${#started[@]} > 0)) && echo "services: started ${#started[@]} service(s)"
echo "services: all 6 services answer"
