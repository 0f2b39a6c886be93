#!/usr/bin/env bash
# What `make test` needs besides Python: Chromium (browser tests), Node.js and npm (the web app, the Node
# runner). As root on Debian/Ubuntu the missing ones are installed from the distribution, saying so;
# otherwise one line says which tests will be skipped and the command that enables them.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "make test: installing ${missing[*]} from the distribution (apt-get) for the web, Node and browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "make test: ${missing[*]} not installed and not root on Debian/Ubuntu: the web, Node and browser" \
      "tests will be skipped; run \`sudo make test\` (or install ${missing[*]}) to enable them"
  fi
fi
