#!/usr/bin/env bash
# Installs every Debian package SurgeDB's build and tests need. Idempotent: packages already
# present are skipped, so a second run does no network I/O. Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  clang libclang-rt-14-dev
  lemon libsqlite3-dev
  libabsl-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libboost-dev
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  librdkafka-dev libpq-dev postgresql libspdlog-dev libtomlplusplus-dev nlohmann-json3-dev libreadline-dev libjemalloc-dev
  python3 python3-grpcio python3-protobuf
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
