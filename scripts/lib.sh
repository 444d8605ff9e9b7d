# Shared shell helpers for scripts/: the repo root, free ports, MariaDB and Redis as plain local
# processes (no systemd, no Docker), and stopping exactly what was started, by pid file.
# Sourced, not run.

DJ_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DJ_ROOT

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on right now, below the kernel's ephemeral range:
# a port from that range can be the local end of an outgoing connection (to MariaDB, Redis, a
# service), and a server started on it fails with "Address already in use".
free_port() {
  local port low
  low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "${low:-0}" -gt 11000 ] 2>/dev/null || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return 0
    fi
  done
  die "no free port found"
}

# Builds everything into build/ (Ninja, all cores; through ccache when the machine has it, so
# several checkouts under one directory share compiled objects).
# build [DIR [CMAKE_ARGS...]]: configures and builds DIR (default build/), warnings as errors.
build() {
  local dir="${1:-${DJ_ROOT}/build}"
  shift || true
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(dirname "${DJ_ROOT}")}" CCACHE_NOHASHDIR=1
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "${DJ_ROOT}" -B "${dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDJ_WERROR=ON \
    "${launcher[@]}" "$@" >/dev/null
  cmake --build "${dir}" -j"$(nproc)"
}

# start_mariadb DIR PORT ROOT_PASSWORD: a MariaDB server under DIR on 127.0.0.1:PORT, root
# reachable over TCP with the password. Initialises DIR on first use.
start_mariadb() {
  local dir="$1" port="$2" pw="$3"
  mkdir -p "${dir}"
  if [ ! -d "${dir}/data/mysql" ]; then
    mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
      --datadir="${dir}/data" --user=root >"${dir}/install.log" 2>&1 \
      || { cat "${dir}/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  mariadbd --no-defaults --user=root --datadir="${dir}/data" --socket="${dir}/mysql.sock" \
    --port="${port}" --bind-address=127.0.0.1 --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M --max-connections=500 \
    --pid-file="${dir}/mariadbd.pid.internal" --log-error="${dir}/mariadbd.err" \
    >/dev/null 2>&1 &
  echo $! >"${dir}/mariadbd.pid"
  for _ in $(seq 1 600); do
    if mariadb-admin --no-defaults --socket="${dir}/mysql.sock" -uroot ${pw:+-p"${pw}"} ping \
      >/dev/null 2>&1 || mariadb-admin --no-defaults --socket="${dir}/mysql.sock" -uroot ping \
      >/dev/null 2>&1; then
      break
    fi
    if ! kill -0 "$(cat "${dir}/mariadbd.pid")" 2>/dev/null; then
      tail -20 "${dir}/mariadbd.err" >&2
      die "mariadbd exited during start-up"
    fi
    sleep 0.1
  done
  local sql=""
  for host in localhost 127.0.0.1; do
    sql+="CREATE USER IF NOT EXISTS 'root'@'${host}' IDENTIFIED BY '${pw}';"
    sql+="ALTER USER 'root'@'${host}' IDENTIFIED BY '${pw}';"
    sql+="GRANT ALL PRIVILEGES ON *.* TO 'root'@'${host}' WITH GRANT OPTION;"
  done
  mariadb --no-defaults --socket="${dir}/mysql.sock" -uroot -p"${pw}" -e "${sql}" 2>/dev/null \
    || mariadb --no-defaults --socket="${dir}/mysql.sock" -uroot -e "${sql}" \
    || die "cannot set the MariaDB root password"
  mariadb --no-defaults -h127.0.0.1 -P"${port}" -uroot -p"${pw}" -e "SELECT 1" >/dev/null \
    || die "MariaDB does not answer on 127.0.0.1:${port}"
}

# start_redis DIR PORT: a Redis server under DIR on 127.0.0.1:PORT (no persistence).
start_redis() {
  local dir="$1" port="$2"
  mkdir -p "${dir}"
  redis-server --port "${port}" --bind 127.0.0.1 --dir "${dir}" --save '' --appendonly no \
    --daemonize no --logfile "${dir}/redis.log" >/dev/null 2>&1 &
  echo $! >"${dir}/redis.pid"
  for _ in $(seq 1 300); do
    if redis-cli -h 127.0.0.1 -p "${port}" ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  tail -20 "${dir}/redis.log" >&2
  die "redis-server did not start on ${port}"
}

# start_process NAME PIDDIR LOGDIR COMMAND...: runs COMMAND in the background, pid in PIDDIR.
start_process() {
  local name="$1" piddir="$2" logdir="$3"
  shift 3
  mkdir -p "${piddir}" "${logdir}"
  "$@" >>"${logdir}/${name}.log" 2>&1 &
  echo $! >"${piddir}/${name}.pid"
}

# stop_pidfile FILE: SIGTERM the pid in FILE, wait up to 30 s, then SIGKILL; removes FILE.
stop_pidfile() {
  local file="$1" pid
  [ -f "${file}" ] || return 0
  pid="$(cat "${file}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  rm -f "${file}"
}

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
  local url="$1" seconds="$2"
  for _ in $(seq 1 $((seconds * 10))); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "${url}")" = "200" ]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# 32 random bytes as hex: a key or shared secret.
random_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# A random password that meets the default policy (upper, lower, digit, other).
random_password() { echo "Dj-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-A7"; }

# sign_in URL USER PASSWORD NEW_PASSWORD: prints an access token. A password that must be changed
# first (the bootstrap one) is changed to NEW_PASSWORD; if PASSWORD no longer works, NEW_PASSWORD
# is tried (it was changed on an earlier run).
sign_in() {
  local url="$1" user="$2" pw="$3" new="$4" body
  login() {
    curl -s -X POST "${url}/v1/auth:login" -H 'Content-Type: application/json' \
      -d "$(jq -nc --arg u "${user}" --arg p "$1" '{username: $u, password: $p}')"
  }
  body=$(login "${pw}")
  if grep -q PASSWORD_CHANGE_REQUIRED <<<"${body}"; then
    curl -sf -X POST "${url}/v1/auth:changePassword" -H 'Content-Type: application/json' \
      -d "$(jq -nc --arg u "${user}" --arg o "${pw}" --arg n "${new}" \
        '{username: $u, oldPassword: $o, newPassword: $n}')" >/dev/null || return 1
    body=$(login "${new}")
  elif ! grep -q accessToken <<<"${body}"; then
    body=$(login "${new}")
  fi
  jq -r '.accessToken // empty' <<<"${body}"
}

# start_distributed_suite VAR PIDS BIN: the distributed topology for a benchmark: MariaDB and
# Redis under VAR, dj-org, dj-member and dj-gateway from BIN (pid files in PIDS, logs in
# VAR/log), with keys made for this run (exported). Sets mysql_port, redis_port, grpc_port,
# member_port, gw_port, their metrics ports (metrics_port: dj-org, member_metrics, gw_metrics)
# and admin_initial/admin_pw (the bootstrap administrator's passwords).
start_distributed_suite() {
  local var="$1" pids="$2" bin="$3"
  mysql_port=$(free_port); redis_port=$(free_port)
  grpc_port=$(free_port); metrics_port=$(free_port); gw_port=$(free_port)
  start_mariadb "${var}/mysql" "${mysql_port}" benchpw
  mv "${var}/mysql/mariadbd.pid" "${pids}/mariadbd.pid"
  start_redis "${var}/redis" "${redis_port}"
  mv "${var}/redis/redis.pid" "${pids}/redis.pid"
  mariadb --no-defaults -h127.0.0.1 -P"${mysql_port}" -uroot -pbenchpw \
    -e "CREATE DATABASE dj_org CHARACTER SET utf8mb4; CREATE DATABASE dj_member CHARACTER SET utf8mb4"
  # Keys for this run.
  export DJ_INTERNAL_SECRET="$(random_secret)" DJ_AUDIT_KEY="$(random_secret)"
  export DJ_JWT_KEYS="bench=$(random_secret)"
  admin_initial=$(random_password); admin_pw=$(random_password)
  member_port=$(free_port); member_metrics=$(free_port); gw_metrics=$(free_port)
  DJ_MYSQL_URL="mysql://root:benchpw@127.0.0.1:${mysql_port}/dj_org" \
  DJ_REDIS_URL="redis://127.0.0.1:${redis_port}/0" DJ_LOG_LEVEL=warn \
  DJ_GRPC_LISTEN="127.0.0.1:${grpc_port}" DJ_METRICS_LISTEN="127.0.0.1:${metrics_port}" \
    start_process dj-org "${pids}" "${var}/log" "${bin}"/dj-org
  DJ_MYSQL_URL="mysql://root:benchpw@127.0.0.1:${mysql_port}/dj_member" \
  DJ_REDIS_URL="redis://127.0.0.1:${redis_port}/0" DJ_LOG_LEVEL=warn \
  DJ_GRPC_LISTEN="127.0.0.1:${member_port}" DJ_METRICS_LISTEN="127.0.0.1:${member_metrics}" \
  DJ_ORG_ADDR="127.0.0.1:${grpc_port}" DJ_BOOTSTRAP_ADMIN_PASSWORD="${admin_initial}" \
    start_process dj-member "${pids}" "${var}/log" "${bin}"/dj-member
  DJ_HTTP_LISTEN="127.0.0.1:${gw_port}" DJ_ORG_ADDR="127.0.0.1:${grpc_port}" DJ_LOG_LEVEL=warn \
  DJ_METRICS_LISTEN="127.0.0.1:${gw_metrics}" \
  DJ_MEMBER_ADDR="127.0.0.1:${member_port}" DJ_REDIS_URL="redis://127.0.0.1:${redis_port}/0" \
    start_process dj-gateway "${pids}" "${var}/log" "${bin}"/dj-gateway
  wait_http "http://127.0.0.1:${gw_port}/readyz" 60 || die "dj-gateway not ready"
}
