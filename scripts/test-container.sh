#!/usr/bin/env bash
# npm run test:container: builds the Dockerfile with Podman, runs the image the way a container
# runtime would (its own command, user, workdir and environment, via ../shared/container/run-image.sh,
# on the host network), and checks it end to end: ready, a real computation, a non-root process,
# the image's own HEALTHCHECK (passing while up, failing when nothing answers), SIGTERM -> exit 0.
# Prints the image size and the time each phase took. Needs root and apt (CI has both); not part
# of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The helper scripts live in ../shared/container beside the checkout; a clone made elsewhere on this
# machine (a CI run in a temporary folder) finds them at the workplace's own path.
tools=${CONTAINER_TOOLS:-../shared/container}
[ -d "$tools" ] || tools=/work/shared/container
[ -f "$tools/base-image.sh" ] || { echo "test-container: no base-image.sh in ../shared/container or $tools (set CONTAINER_TOOLS)" >&2; exit 1; }
tag=localhost/compute-service:container-test
store=(--storage-driver vfs)
work=$(mktemp -d)
runner=''   # pid of run-image.sh
node_pid='' # pid of the server inside the image
started=$SECONDS

step () { printf '\n::: %s (%ss)\n' "$*" "$((SECONDS - started))"; }
fail () {
  echo "FAIL: $*" >&2
  [ -s "$work/server.log" ] && { echo '--- last server log lines:' >&2; tail -n 20 "$work/server.log" >&2; }
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

cleanup () {
  # SIGTERM first, so run-image.sh unmounts the image and removes its working container;
  # SIGKILL only the server process, never the runner, so that cleanup still happens.
  if alive "$runner"; then
    if alive "$node_pid"; then kill -TERM "$node_pid" 2>/dev/null || true; else kill -TERM "$runner" 2>/dev/null || true; fi
    within 20 eval '! alive "$runner"' || { alive "$node_pid" && kill -KILL "$node_pid" 2>/dev/null; }
    within 20 eval '! alive "$runner"' || echo "warning: run-image.sh (pid $runner) still running" >&2
  fi
  podman "${store[@]}" rmi --force "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for cmd in curl pgrep; do
  command -v "$cmd" >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl procps >/dev/null; }
done

step "base image (node:24-slim stand-in)"
base=$(timeout 900 bash "$tools/base-image.sh" 24)
echo "$base"

step "build $tag"
# --format docker keeps HEALTHCHECK (the OCI format has no such field); --layers=false commits one
# layer per stage instead of caching every step, each of which is a full copy under vfs.
build_started=$SECONDS
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
timeout 1800 podman "${store[@]}" build --pull=never --isolation chroot --format docker --layers=false --build-arg GIT_COMMIT="$commit" -t "$tag" . \
  >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; fail "image build failed"; }
build_seconds=$((SECONDS - build_started))
pass "built in ${build_seconds}s"

free_port () { node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })"; }
port=$(free_port)
url=http://127.0.0.1:$port

step "run $tag on port $port"
# On the host network the container's bind is the host's, so bind loopback (a real container binds
# 0.0.0.0 inside its own network namespace). The drain delay makes readiness visibly 503 before
# the listener closes.
run_started=$SECONDS
bash "$tools/run-image.sh" "$tag" -e PORT="$port" -e HOST=127.0.0.1 -e SHUTDOWN_DRAIN_DELAY_MS=1500 \
  >"$work/server.log" 2>&1 &
runner=$!
ready () { alive "$runner" || fail "container exited before it was ready"; curl -sf "$url/health/ready" >/dev/null; }
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
node_pid=$(pgrep -P "$runner" | head -n1)
[ -n "$node_pid" ] || fail "no server process under run-image.sh"
cmdline=$(tr '\0' ' ' <"/proc/$node_pid/cmdline")
[ "$cmdline" = "node dist/src/server.js " ] || fail "server process runs '$cmdline', not the image's exec-form CMD"
read -r _ ruid euid suid fsuid < <(grep '^Uid:' "/proc/$node_pid/status")
echo "pid $node_pid: $cmdline(uid real/effective/saved/fs: $ruid $euid $suid $fsuid)"
for uid in "$ruid" "$euid" "$suid" "$fsuid"; do [ "$uid" -ne 0 ] || fail "server runs as root"; done
pass "runs as non-root uid $euid"

step "image HEALTHCHECK"
mapfile -t check < <(podman "${store[@]}" image inspect --format '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' "$tag" | sed '/^$/d')
[ "${check[0]:-}" = CMD ] || fail "image has no exec-form HEALTHCHECK (got '${check[*]:-}')"
# Run it as the runtime would: inside the image's file system, as its user, with its environment.
mapfile -t image_env < <(podman "${store[@]}" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$tag" | sed '/^$/d')
read -r _ gid _ < <(grep '^Gid:' "/proc/$node_pid/status")
healthcheck () {
  chroot --userspec="$euid:$gid" "/proc/$node_pid/root" /usr/bin/env -i "${image_env[@]}" PORT="$1" "${check[@]:1}"
}
healthcheck "$port" || fail "HEALTHCHECK failed while the service is up"
pass "HEALTHCHECK exits 0 while the service is up"
closed_port=$(free_port)
if healthcheck "$closed_port"; then fail "HEALTHCHECK passed with nothing listening"; fi
pass "HEALTHCHECK exits non-zero when nothing answers"

step "SIGTERM"
kill -TERM "$node_pid"
draining () { [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready")" = 503 ]; }
within 10 draining || fail "readiness did not turn 503 after SIGTERM"
pass "readiness 503 while draining"
within 60 eval '! alive "$runner"' || fail "still running 60s after SIGTERM"
code=0; wait "$runner" || code=$?
grep -q '"signal":"SIGTERM"' "$work/server.log" || fail "the server never logged receiving SIGTERM"
[ "$code" -eq 0 ] || fail "exit code $code after SIGTERM"
pass "exit code 0 after SIGTERM"

step "image size"
bytes () { podman "${store[@]}" image inspect --format '{{.Size}}' "$1"; }
mb () { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size=$(bytes "$tag"); base_size=$(bytes "$base")
echo "$tag: $(mb "$size") = base $base $(mb "$base_size") + application $(mb $((size - base_size)))"
echo "build ${build_seconds}s, total $((SECONDS - started))s"
echo "PASS"
