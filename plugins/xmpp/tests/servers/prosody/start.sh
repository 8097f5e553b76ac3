#!/bin/bash
# Starts the test Prosody by hand, for debugging the xmpp connector: start.sh DIR [C2S_PORT] [HTTP_PORT].
# Registers alice, bob, bridge-a and bridge-b (password "secret") on localhost; MUC at conference.localhost.
# Stop it with: kill "$(cat DIR/prosody.pid)". The integration test (tests/integration/test_xmpp.py) does the same
# with free ports and a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh DIR [C2S_PORT] [HTTP_PORT]}
c2s=${2:-5222}
http=${3:-5280}
mkdir -p "$dir/data" "$dir/certs"
sed -e "s|@DIR@|$dir|g" -e "s|@C2S_PORT@|$c2s|g" -e "s|@HTTP_PORT@|$http|g" -e "s|@DIRECT_TLS_PORTS@||g" "$here/prosody.cfg.lua.in" > "$dir/prosody.cfg.lua"
for user in alice bob bridge-a bridge-b; do prosodyctl --config "$dir/prosody.cfg.lua" register "$user" localhost secret; done
prosody --config "$dir/prosody.cfg.lua" -F > "$dir/prosody.log" 2>&1 &
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$c2s") 2>/dev/null && { echo "prosody listening on 127.0.0.1:$c2s"; exit 0; }
  sleep 0.05
done
echo "prosody did not start:"; cat "$dir/prosody.log"; exit 1
