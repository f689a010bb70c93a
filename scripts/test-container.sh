#!/usr/bin/env bash
# npm run test:container: builds the Dockerfile, runs the image, and checks it end to end: ready, a
# real computation, the server as the image's exec-form CMD under a non-root uid, the image's own
# HEALTHCHECK (passing while up, failing when nothing answers), SIGTERM -> readiness 503 while
# draining, then exit 0. Prints the image size and the time each phase took. Not part of `npm test`.
#
# Where Docker or Podman can run containers, that is what it uses: the official node base image,
# a real build and a real run. Where no container runtime can start (no daemon, no namespaces),
# it falls back to the stand-ins in shared/container beside the checkout: a local node:24-slim
# made with debootstrap, a Podman (vfs) build, and a chroot run on the host network; those need
# root and apt. CONTAINER_RUNTIME=docker|podman|stand-in picks one; CONTAINER_TOOLS=DIR points at
# the stand-ins; STAND_IN_STORE=DIR is the stand-ins' own container store (below);
# CONTAINER_TEST_DRY_RUN=1 stops once the runtime is chosen and its store opens (test/container-runtime.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

tag=localhost/compute-service:container-test
base_image=docker.io/library/node:24-slim
work=$(mktemp -d)
started=$SECONDS

step () { printf '\n::: %s (%ss)\n' "$*" "$((SECONDS - started))"; }
fail () {
  echo "FAIL: $*" >&2
  server_log 2>/dev/null | tail -n 20 | sed '1i --- last server log lines:' >&2 || true
  exit 1
}
pass () { echo "ok: $*"; }
alive () { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waits up to $1 seconds for the command that follows to succeed; every wait here is bounded.
within () {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# The stand-ins live in shared/container in a folder above the checkout: beside it in CI, or
# further up for a worktree.
stand_in_tools () {
  if [ -n "${CONTAINER_TOOLS:-}" ]; then echo "$CONTAINER_TOOLS"; return; fi
  local dir=$repo
  while [ "$dir" != / ]; do
    dir=$(dirname "$dir")
    if [ -f "$dir/shared/container/base-image.sh" ]; then echo "$dir/shared/container"; return; fi
  done
  return 1
}

# A runtime counts if it runs a container of the official base image (pulled if missing), not
# merely if its command exists.
can_run () {
  command -v "$1" >/dev/null && "$1" info >/dev/null 2>&1 \
    && timeout 600 "$1" run --rm --pull=missing "$base_image" node --version >/dev/null 2>&1
}
runtime=${CONTAINER_RUNTIME:-}
if [ -z "$runtime" ]; then
  if can_run docker; then runtime=docker
  elif can_run podman; then runtime=podman
  else runtime=stand-in
  fi
fi
case $runtime in docker | podman | stand-in) ;; *) echo "test-container: CONTAINER_RUNTIME must be docker, podman or stand-in" >&2; exit 2;; esac

for cmd in curl pgrep; do
  command -v "$cmd" >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl procps >/dev/null; }
done

free_port () { node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })"; }
port=$(free_port)
url=http://127.0.0.1:$port

if [ "$runtime" = stand-in ]; then
  tools=$(stand_in_tools) || { echo "test-container: no container runtime can start here, and no shared/container/base-image.sh above $repo (set CONTAINER_TOOLS)" >&2; exit 1; }
  # The stand-ins run Podman and Buildah with --storage-driver vfs, so they get a store of their own:
  # Podman's database keeps the driver of the first command that used a store, and the default one
  # may be another driver's (the probe above on a Podman never used before, or any earlier use).
  store=${STAND_IN_STORE:-/var/lib/containers/compute-service-stand-in}
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$store/graph" "$store/run" >"$work/storage.conf"
  export CONTAINERS_STORAGE_CONF=$work/storage.conf
  rt=(podman --storage-driver vfs)
  # --layers=false commits one layer per stage instead of caching every step, each a full copy under vfs.
  build=(--pull=never --isolation chroot --format docker --layers=false)
  runner=''   # pid of run-image.sh
  node_pid='' # pid of the server inside the image

  # On the host network the container's bind is the host's, so bind loopback (a real container binds
  # 0.0.0.0 inside its own network namespace).
  start_container () {
    bash "$tools/run-image.sh" "$tag" -e PORT="$port" -e HOST=127.0.0.1 -e SHUTDOWN_DRAIN_DELAY_MS=1500 >"$work/server.log" 2>&1 &
    runner=$!
  }
  container_running () { alive "$runner"; }
  runner_gone () { ! alive "$runner"; }
  server_log () { cat "$work/server.log"; }
  find_server () {
    node_pid=$(pgrep -P "$runner" | head -n1)
    [ -n "$node_pid" ] || fail "no server process under run-image.sh"
  }
  server_proc () { cat "/proc/$node_pid/$1"; }
  # As the runtime would: inside the image's file system, as its user, with its environment.
  run_healthcheck () {
    local gid
    read -r _ gid _ < <(grep '^Gid:' "/proc/$node_pid/status")
    chroot --userspec="$euid:$gid" "/proc/$node_pid/root" /usr/bin/env -i "${image_env[@]}" PORT="$1" "${check[@]:1}"
  }
  healthcheck_port_up=$port
  healthcheck_port_closed=$(free_port)
  send_sigterm () { kill -TERM "$node_pid"; }
  wait_for_exit () { within 60 runner_gone || return 1; code=0; wait "$runner" || code=$?; }
  cleanup_container () {
    # SIGTERM first, so run-image.sh unmounts the image and removes its working container;
    # SIGKILL only the server process, never the runner, so that cleanup still happens.
    if alive "$runner"; then
      if alive "$node_pid"; then kill -TERM "$node_pid" 2>/dev/null || true; else kill -TERM "$runner" 2>/dev/null || true; fi
      within 20 runner_gone || { alive "$node_pid" && kill -KILL "$node_pid" 2>/dev/null; }
      within 20 runner_gone || echo "warning: run-image.sh (pid $runner) still running" >&2
    fi
  }
else
  rt=("$runtime")
  build=()
  # Podman writes OCI images unless told otherwise, and the OCI format has no HEALTHCHECK.
  [ "$runtime" = podman ] && build=(--format docker)
  ctr=compute-service-container-test-$$
  start_container () {
    "${rt[@]}" run -d --name "$ctr" -p "127.0.0.1:$port:3000" -e SHUTDOWN_DRAIN_DELAY_MS=1500 "$tag" >/dev/null
  }
  container_running () { [ "$("${rt[@]}" inspect --format '{{.State.Running}}' "$ctr" 2>/dev/null)" = true ]; }
  server_log () { "${rt[@]}" logs "$ctr" 2>&1; }
  # Exec form: the server is the container's PID 1.
  find_server () { :; }
  server_proc () { "${rt[@]}" exec "$ctr" cat "/proc/1/$1"; }
  run_healthcheck () { "${rt[@]}" exec -e PORT="$1" "$ctr" "${check[@]:1}"; }
  healthcheck_port_up=3000
  healthcheck_port_closed=3001
  send_sigterm () { "${rt[@]}" kill --signal TERM "$ctr" >/dev/null; }
  wait_for_exit () { code=$(timeout 60 "${rt[@]}" wait "$ctr"); }
  cleanup_container () { "${rt[@]}" rm --force "$ctr" >/dev/null 2>&1 || true; }
fi

cleanup () {
  cleanup_container
  "${rt[@]}" rmi --force "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${CONTAINER_TEST_DRY_RUN:-}" = 1 ]; then
  "${rt[@]}" info >/dev/null || fail "$runtime cannot open its container store"
  echo "runtime: $runtime"
  exit 0
fi

if [ "$runtime" = stand-in ]; then
  step "base image: node:24-slim stand-in ($tools; no container runtime can start here)"
  base=$(timeout 900 bash "$tools/base-image.sh" 24)
else
  step "base image: $base_image ($runtime)"
  # Pulled each time, so a local image of the same name (a stand-in made here earlier) gives way to the official one.
  if ! timeout 900 "${rt[@]}" pull "$base_image" >/dev/null; then
    "${rt[@]}" image inspect "$base_image" >/dev/null 2>&1 || fail "could not pull $base_image"
    echo "warning: could not pull $base_image; using the local copy" >&2
  fi
  base=$base_image
fi
echo "$base"

step "build $tag"
build_started=$SECONDS
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
timeout 1800 "${rt[@]}" build "${build[@]}" --build-arg GIT_COMMIT="$commit" -t "$tag" . >"$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log" >&2; fail "image build failed"; }
build_seconds=$((SECONDS - build_started))
pass "built in ${build_seconds}s"

step "run $tag on port $port"
run_started=$SECONDS
start_container
ready () { container_running || fail "container exited before it was ready"; curl -sf "$url/health/ready" >/dev/null; }
within 120 ready || fail "/health/ready did not answer 200 within 120s"
pass "/health/ready answered 200 after $((SECONDS - run_started))s"

step "compute"
body='{"start":-3,"end":1000000000}'
reply=$(curl -sf -X POST "$url/v1/sum-of-squares" -H 'content-type: application/json' -d "$body") || fail "POST /v1/sum-of-squares failed"
echo "$reply"
# The expected value comes from the closed form F(end) - F(start), F(n) = n(n-1)(2n-1)/6, in BigInt.
node -e '
  const [request, reply] = process.argv.slice(1).map((s) => JSON.parse(s))
  const F = (n) => (n * (n - 1n) * (2n * n - 1n)) / 6n
  const expected = (F(BigInt(request.end)) - F(BigInt(request.start))).toString()
  if (reply.result !== expected) { console.error(`result ${reply.result}, expected ${expected}`); process.exit(1) }
' "$body" "$reply" || fail "wrong sum"
pass "result equals the closed form"

step "version"
version=$(curl -sf "$url/version") || fail "GET /version failed"
echo "$version"
node -e 'const v = JSON.parse(process.argv[1]); if (v.commit !== process.argv[2]) { console.error(`commit ${v.commit}, expected ${process.argv[2]}`); process.exit(1) }' "$version" "$commit" \
  || fail "the image does not report the commit it was built from"
pass "GET /version reports commit $commit"

step "process identity"
find_server
cmdline=$(server_proc cmdline | tr '\0' ' ')
[ "$cmdline" = "node dist/src/server.js " ] || fail "server process runs '$cmdline', not the image's exec-form CMD"
read -r _ ruid euid suid fsuid < <(server_proc status | grep '^Uid:')
echo "server: $cmdline(uid real/effective/saved/fs: $ruid $euid $suid $fsuid)"
for uid in "$ruid" "$euid" "$suid" "$fsuid"; do [ "$uid" -ne 0 ] || fail "server runs as root"; done
pass "runs as non-root uid $euid"

step "image HEALTHCHECK"
mapfile -t check < <("${rt[@]}" image inspect --format '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' "$tag" | sed '/^$/d')
[ "${check[0]:-}" = CMD ] || fail "image has no exec-form HEALTHCHECK (got '${check[*]:-}')"
mapfile -t image_env < <("${rt[@]}" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$tag" | sed '/^$/d')
run_healthcheck "$healthcheck_port_up" || fail "HEALTHCHECK failed while the service is up"
pass "HEALTHCHECK exits 0 while the service is up"
if run_healthcheck "$healthcheck_port_closed"; then fail "HEALTHCHECK passed with nothing listening"; fi
pass "HEALTHCHECK exits non-zero when nothing answers"
if [ "$runtime" = docker ]; then
  # The daemon runs it on its own schedule (every 10 s): wait for its verdict too.
  healthy () { [ "$(docker inspect --format '{{.State.Health.Status}}' "$ctr")" = healthy ]; }
  within 60 healthy || fail "docker never reported the container healthy"
  pass "docker reports the container healthy"
fi

step "SIGTERM"
send_sigterm
draining () { [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready")" = 503 ]; }
within 10 draining || fail "readiness did not turn 503 after SIGTERM"
pass "readiness 503 while draining"
wait_for_exit || fail "still running 60s after SIGTERM"
server_log | grep -q '"signal":"SIGTERM"' || fail "the server never logged receiving SIGTERM"
[ "$code" -eq 0 ] || fail "exit code $code after SIGTERM"
pass "exit code 0 after SIGTERM"

step "image size"
bytes () { "${rt[@]}" image inspect --format '{{.Size}}' "$1"; }
mb () { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size=$(bytes "$tag"); base_size=$(bytes "$base")
echo "$tag: $(mb "$size") = base $base $(mb "$base_size") + application $(mb $((size - base_size)))"
echo "runtime $runtime, build ${build_seconds}s, total $((SECONDS - started))s"
echo "PASS"
