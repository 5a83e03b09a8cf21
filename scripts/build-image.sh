#!/usr/bin/env bash
# scripts/build-image.sh — build the repository's Dockerfile without a Docker engine (buildah + podman, rootful).
#
#   bash scripts/build-image.sh                 build the image (tag: yinling:<version from pyproject.toml>)
#   bash scripts/build-image.sh --smoke         build, then run the image and check it (see smoke() below)
#   bash scripts/build-image.sh --smoke-only    check an image that is already built
#   options: --tag NAME:TAG   --base IMAGE (use this base, never the stand-in)   --rebuild-base (redo the stand-in)
#
# What it does, in order, and prints as it goes:
#   1. installs buildah, podman and runc from Debian if they are missing (debootstrap too, if step 2 needs it);
#   2. finds the base image named by the Dockerfile's `ARG PYTHON_IMAGE` (python:3.11-slim-bookworm): already in
#      local storage, or pulled. Only if it cannot be had (these machines reach no image registry) it builds a
#      STAND-IN with the same layout from Debian bookworm's own packages (debootstrap + python3.11, with
#      /usr/local/bin/python3.11, python3, python and pip as the official image has them) and imports it as
#      localhost/yinling-standin-python:3.11-slim-bookworm. It is deliberately NOT called python:..., so that a
#      short name never resolves to it by accident. The stand-in is built once and reused (--rebuild-base redoes it);
#   3. `buildah bud --format docker` (docker format keeps HEALTHCHECK) with --build-arg PYTHON_IMAGE=<that base>.
#      The Dockerfile itself is used unchanged; a normal `docker build .` means exactly the same thing.
#
# Slow (a few minutes on 2 cores, mostly the dependency install): NOT part of .ci/run or scripts/test.sh.
# Needs root (rootful podman/buildah, debootstrap, chroot). Storage: /var/lib/containers/storage with the overlay
# driver (YINLING_STORAGE_DRIVER=vfs where overlay is unavailable; use the same --storage-driver to run the image).
# Environment: YINLING_IMAGE_ISOLATION (buildah --isolation, default chroot: RUN steps need no OCI runtime or
# cgroups), YINLING_OCI_RUNTIME (for the smoke runs, default runc), YINLING_SMOKE_PORT (default 18080),
# YINLING_STORAGE_DRIVER, YINLING_CACHE_DIR (default ~/.cache/yinling: logs under image/),
# DEBIAN_MIRROR (default: the first Debian mirror in this machine's apt sources, else deb.debian.org).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${YINLING_CACHE_DIR:-$HOME/.cache/yinling}/image
ISOLATION=${YINLING_IMAGE_ISOLATION:-chroot}
STANDIN=localhost/yinling-standin-python:3.11-slim-bookworm
SMOKE_PORT=${YINLING_SMOKE_PORT:-18080}
# podman and buildah share /var/lib/containers/storage; give both the same driver explicitly, or the first tool
# to touch the storage fixes its own default (podman records it in its database) and the other sees no images.
DRIVER=${YINLING_STORAGE_DRIVER:-overlay}
PODMAN=(podman --storage-driver "$DRIVER" --cgroup-manager=cgroupfs)
BUILDAH=(buildah --storage-driver "$DRIVER")

VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO_ROOT/pyproject.toml" | head -1)
TAG="yinling:${VERSION:-dev}"
BASE=""
DO_BUILD=1 DO_SMOKE=0 REBUILD_BASE=0
while (($#)); do
    case $1 in
        --smoke) DO_SMOKE=1 ;;
        --smoke-only) DO_SMOKE=1 DO_BUILD=0 ;;
        --tag) TAG=$2; shift ;;
        --base) BASE=$2; shift ;;
        --rebuild-base) REBUILD_BASE=1 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\033[1m[build-image]\033[0m %s\n' "$*"; }
die() { printf '[build-image] FAILED: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (rootful buildah/podman, debootstrap and chroot)"

# The official base named by the Dockerfile (single source of truth: its ARG default).
OFFICIAL=$(sed -n 's/^ARG PYTHON_IMAGE=\(.*\)$/\1/p' "$REPO_ROOT/Dockerfile" | head -1)
[[ -n $OFFICIAL ]] || die "no 'ARG PYTHON_IMAGE=' default in the Dockerfile"

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    ((${#missing[@]})) || return 0
    say "installing from Debian: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

debian_mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
    local m
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
    echo "${m:-http://deb.debian.org/debian}"
}

# --- the stand-in base: Debian bookworm + Debian's python3.11, laid out like python:3.11-slim-bookworm --------
build_standin() {
    apt_install debootstrap
    local mirror rootfs log
    mirror=$(debian_mirror)
    mkdir -p "$CACHE_DIR"
    rootfs=$(mktemp -d "$CACHE_DIR/standin-rootfs.XXXXXX")
    log=$CACHE_DIR/standin.log
    : >"$log"
    # shellcheck disable=SC2064
    trap "umount '$rootfs/proc' 2>/dev/null || true; rm -rf '$rootfs'" EXIT
    say "stand-in base: debootstrap --variant=minbase bookworm from $mirror (log: $log)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >>"$log" 2>&1 || die "debootstrap (see $log)"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    mount -t proc proc "$rootfs/proc"
    say "stand-in base: apt-get install python3.11 python3.11-venv python3-pip ca-certificates netbase (in chroot)"
    # shellcheck disable=SC2016  # expanded inside the chroot
    chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -euc '
        apt-get update -q
        apt-get install -y -q --no-install-recommends python3.11 python3.11-venv python3-pip ca-certificates netbase
        apt-get clean
        rm -rf /var/lib/apt/lists/*
        # The official image has its interpreter and pip in /usr/local/bin, and pip may install system-wide.
        ln -sf /usr/bin/python3.11 /usr/local/bin/python3.11
        ln -sf python3.11 /usr/local/bin/python3
        ln -sf python3 /usr/local/bin/python
        for p in pip pip3 pip3.11; do
            printf "#!/bin/sh\nexec /usr/local/bin/python3.11 -m pip \"\$@\"\n" >/usr/local/bin/$p
            chmod 0755 /usr/local/bin/$p
        done
        rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED
        /usr/local/bin/python --version
        /usr/local/bin/pip --version
    ' >>"$log" 2>&1 || die "stand-in package install (see $log)"
    # A machine whose HTTPS egress goes through an intercepting proxy trusts that proxy's CA through local
    # additions in /usr/local/share/ca-certificates (these machines do). The builder's pip and uv must trust it
    # too, or `pip install uv` / `uv sync` fail with CERTIFICATE_VERIFY_FAILED / UnknownIssuer. RUN steps cannot
    # be given extra environment without editing the Dockerfile (buildah 1.28 applies neither --env nor
    # containers.conf env to RUN), so the STAND-IN carries the CA in its trust store and /etc/uv/uv.toml tells uv
    # to use that store. Only the stand-in is touched; the official base and the Dockerfile are not.
    local extra_cas=(/usr/local/share/ca-certificates/*.crt)
    if [[ -e ${extra_cas[0]} ]]; then
        say "stand-in base: adding this machine's local CA certificates (${extra_cas[*]##*/}) and /etc/uv/uv.toml system-certs"
        mkdir -p "$rootfs/usr/local/share/ca-certificates" "$rootfs/etc/uv"
        cp "${extra_cas[@]}" "$rootfs/usr/local/share/ca-certificates/"
        printf '# scripts/build-image.sh: use the system trust store (it holds this machine'"'"'s egress CA)\nsystem-certs = true\n' \
            >"$rootfs/etc/uv/uv.toml"
        chroot "$rootfs" update-ca-certificates >>"$log" 2>&1 || die "update-ca-certificates (see $log)"
    fi
    umount "$rootfs/proc"
    : >"$rootfs/etc/resolv.conf"   # the container runtime provides its own
    "${PODMAN[@]}" image rm -f "$STANDIN" >/dev/null 2>&1 || true
    say "stand-in base: importing as $STANDIN"
    tar --numeric-owner -C "$rootfs" -c . | "${PODMAN[@]}" import \
        --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "stand-in for $OFFICIAL: Debian bookworm minbase + Debian python3.11 (scripts/build-image.sh)" \
        - "$STANDIN" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
}

choose_base() {
    if [[ -n $BASE ]]; then say "base: $BASE (given with --base)"; return; fi
    if "${PODMAN[@]}" image exists "docker.io/library/$OFFICIAL" 2>/dev/null || "${PODMAN[@]}" image exists "$OFFICIAL" 2>/dev/null; then
        BASE=$OFFICIAL; say "base: $OFFICIAL (official, already in local storage)"; return
    fi
    say "base: trying to pull the official $OFFICIAL"
    if timeout 120 "${PODMAN[@]}" pull -q "docker.io/library/$OFFICIAL" >/dev/null 2>"$CACHE_DIR/pull.log"; then
        BASE=$OFFICIAL; say "base: $OFFICIAL (official, pulled)"; return
    fi
    say "base: the official image cannot be pulled here: $(tail -1 "$CACHE_DIR/pull.log")"
    if ((REBUILD_BASE)) || ! "${PODMAN[@]}" image exists "$STANDIN"; then
        build_standin
    else
        say "base: reusing the stand-in $STANDIN (built $("${PODMAN[@]}" image inspect -f '{{.Created}}' "$STANDIN" | cut -c1-19))"
    fi
    BASE=$STANDIN
    say "base: $STANDIN (a STAND-IN with Debian's python3.11, not the official image)"
}

build() {
    apt_install buildah podman runc
    mkdir -p "$CACHE_DIR"
    choose_base
    say "build: buildah bud --format docker --layers --isolation $ISOLATION --build-arg PYTHON_IMAGE=$BASE -t $TAG $REPO_ROOT"
    local t0=$SECONDS
    "${BUILDAH[@]}" bud --format docker --layers --isolation "$ISOLATION" \
        --build-arg "PYTHON_IMAGE=$BASE" -t "$TAG" "$REPO_ROOT"
    say "build: done in $((SECONDS - t0)) s; $TAG is $("${PODMAN[@]}" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
}

# --- smoke checks: run the image as a real container -----------------------------------------------------------
# What running a container needs on this kind of machine (cgroup v1 with a hybrid unified hierarchy, no systemd,
# no CAP_SYS_RESOURCE), each found by trying:
#   runc, not crun: crun 1.8 refuses "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"
#     (even with --cgroups=disabled); runc 1.1 runs fine;
#   --cgroup-manager=cgroupfs: there is no systemd;
#   explicit --ulimit: podman's defaults (nofile 1048576, nproc up to 4194304) are above the hard limits here, and
#     without CAP_SYS_RESOURCE the runtime fails with "error setting rlimit type 7: operation not permitted".
RUNTIME=${YINLING_OCI_RUNTIME:-runc}
NOFILE=$(ulimit -Hn); [[ $NOFILE == unlimited || $NOFILE -gt 65536 ]] && NOFILE=65536
RUN_OPTS=(--runtime "$RUNTIME" --ulimit "nofile=$NOFILE:$NOFILE" --ulimit nproc=4096:4096)
# --no-healthcheck where the HEALTHCHECK is not under test: podman would try to install a systemd timer for it and
# log "unable to get systemd connection to add healthchecks" (harmless; there is no systemd here).
PODMAN_RUN=("${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" --no-healthcheck --network host)

smoke() {
    local failures=0 name=yinling-smoke-$$ out
    check() { if "$@"; then say "  ok: $CHECK"; else say "  FAIL: $CHECK"; failures=$((failures + 1)); fi; }
    "${PODMAN[@]}" image exists "$TAG" || die "no image $TAG (build it first)"
    say "smoke: $TAG"

    CHECK="configured user is 10001:10001"
    check test "$("${PODMAN[@]}" image inspect -f '{{.Config.User}}' "$TAG")" = "10001:10001"
    CHECK="HEALTHCHECK kept (docker format)"
    check test -n "$("${PODMAN[@]}" image inspect -f '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}' "$TAG")"
    CHECK="entrypoint is yinling"
    check test "$("${PODMAN[@]}" image inspect -f '{{json .Config.Entrypoint}}' "$TAG")" = '["yinling"]'

    out=$("${PODMAN_RUN[@]}" --entrypoint id "$TAG" -u 2>&1) || true
    CHECK="container process runs as uid 10001 (id -u: $out)"
    check test "$out" = 10001

    out=$("${PODMAN_RUN[@]}" --read-only --tmpfs /tmp "$TAG" --help 2>&1 | grep -c '^  [a-z]' || true)
    CHECK="yinling --help runs as uid 10001 (read-only root, tmpfs /tmp): $out commands listed"
    check test "$out" -gt 5

    # shellcheck disable=SC2016  # expanded inside the container
    out=$("${PODMAN_RUN[@]}" --entrypoint sh "$TAG" -c \
        'for c in gcc cc g++ make uv curl; do command -v $c; done; ls /usr/local/lib/python3.11/*-packages 2>/dev/null | grep -ix uv; true')
    CHECK="no compilers, uv or curl in the runtime stage${out:+ (found: $(echo "$out" | tr '\n' ' '))}"
    check test -z "$out"

    out=$("${PODMAN_RUN[@]}" --entrypoint sh "$TAG" -c \
        'touch /opt/yinling/x 2>/dev/null || echo denied; touch /app/x 2>/dev/null || echo denied' | grep -c denied || true)
    CHECK="application files are not writable by the application user"
    check test "$out" = 2

    out=$("${PODMAN_RUN[@]}" --entrypoint python "$TAG" -c \
        'import importlib.metadata as m; print(sorted(e.name for e in m.entry_points(group="yinling.plugins")))' 2>&1)
    CHECK="built-in plugins registered: $out"
    check grep -q points <<<"$out"

    say "smoke: yinling demo --host 127.0.0.1 --port $SMOKE_PORT (read-only root, tmpfs /tmp)"
    "${PODMAN_RUN[@]}" -d --name "$name" --read-only --tmpfs /tmp "$TAG" \
        demo --host 127.0.0.1 --port "$SMOKE_PORT" >/dev/null
    local code_h="" code_r="" i
    for i in $(seq 1 90); do
        code_h=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SMOKE_PORT/health" || true)
        [[ $code_h == 200 ]] && break
        "${PODMAN[@]}" container exists "$name" || break
        sleep 1
    done
    code_r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SMOKE_PORT/ready" || true)
    CHECK="GET /health -> $code_h (after ${i}s)"
    check test "$code_h" = 200
    CHECK="GET /ready -> $code_r"
    check test "$code_r" = 200
    "${PODMAN[@]}" logs "$name" >"$CACHE_DIR/smoke-demo.log" 2>&1 || true
    "${PODMAN[@]}" rm -f -t 5 "$name" >/dev/null 2>&1 || true

    # The HEALTHCHECK asks 127.0.0.1:8000; give this container a network namespace of its own (no network at
    # all), so port 8000 of the host is never needed, and run the check itself inside it.
    CHECK="the image's own HEALTHCHECK passes (podman healthcheck run, default command on :8000)"
    "${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" --network none -d --name "$name" --read-only --tmpfs /tmp "$TAG" \
        demo --host 127.0.0.1 --port 8000 >/dev/null 2>>"$CACHE_DIR/smoke-podman.log"
    for i in $(seq 1 90); do
        "${PODMAN[@]}" healthcheck run "$name" >/dev/null 2>&1 && break
        sleep 1
    done
    check "${PODMAN[@]}" healthcheck run "$name"
    "${PODMAN[@]}" rm -f -t 5 "$name" >/dev/null 2>&1 || true

    # The documented way to add a plugin (Dockerfile header, docs/operations.md §6): a derived image whose pip
    # installs a wheel into the venv under the image's constraints file. Uses the repository's example plugin.
    if command -v uv >/dev/null; then
        local ctx; ctx=$(mktemp -d)
        (cd "$REPO_ROOT/examples/yinling-visits" && uv build --wheel -q -o "$ctx/dist" >/dev/null 2>&1)
        cat >"$ctx/Containerfile" <<EOF2
FROM $TAG
USER root
COPY dist/*.whl /tmp/wheels/
RUN pip --python /opt/yinling/venv/bin/python install --no-cache-dir \\
      --constraint /opt/yinling/constraints.txt /tmp/wheels/*.whl \\
 && rm -rf /tmp/wheels
USER 10001:10001
EOF2
        out=""
        if "${BUILDAH[@]}" bud --format docker --isolation "$ISOLATION" -t yinling-smoke-derived:latest "$ctx" \
                >"$CACHE_DIR/smoke-derived.log" 2>&1; then
            out=$("${PODMAN_RUN[@]}" --entrypoint python yinling-smoke-derived:latest -c \
                'import importlib.metadata as m; print(sorted(e.name for e in m.entry_points(group="yinling.plugins")))' 2>&1)
        fi
        CHECK="derived image with a plugin (pip --constraint constraints.txt, examples/yinling-visits): ${out:-build failed, see $CACHE_DIR/smoke-derived.log}"
        check grep -q visits <<<"$out"
        "${PODMAN[@]}" image rm -f yinling-smoke-derived:latest >/dev/null 2>&1 || true
        rm -rf "$ctx"
    else
        say "  skipped: derived plugin image (no uv on this machine to build the example plugin's wheel)"
    fi

    say "smoke: image size $("${PODMAN[@]}" image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'); demo log: $CACHE_DIR/smoke-demo.log"
    if ((failures)); then die "$failures smoke check(s) failed"; fi
    say "smoke: all checks passed"
}

if ((DO_BUILD)); then build; else apt_install buildah podman runc; fi
if ((DO_SMOKE)); then mkdir -p "$CACHE_DIR"; smoke; fi
