#!/usr/bin/env bash
# Installs the Debian 12 packages Relais builds and tests with. Run as root; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache python3 ca-certificates openssl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev catch2 libre2-dev libcli11-dev libpugixml-dev libsqlite3-dev libssl-dev
  libstrophe-dev libcbor-dev
  ngircd inspircd prosody lua-unbound
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: these packages are missing: ${missing[*]}; run this script as root to install them" >&2
  exit 1
fi
# Servers installed for the tests must not start as system services on their default ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
