# Source this file (bash): `. scripts/node.sh` gives the shell a Node.js this project supports.
#
# When the `node` on PATH is older than the floor in package.json's `engines.node`, it installs
# Node 24 from the npm registry (the `node-linux-<arch>` package: the binary and its headers) into
# a cache folder outside the work tree, puts it first on PATH and points `npm_config_nodedir` at
# its headers so native addons (better-sqlite3, argon2) build for it. With a supported `node` it
# does nothing: a machine with Node 22.22+ is never touched.
#
# `infra_use_node <major>` switches the shell to that line whatever is installed (CI runs the unit
# tests on 22 and 26 with it). Cache: $INFRA_NODE_CACHE, default ~/.cache/nestjs-infrastructure/node.
# shellcheck shell=bash

infra_node_cache="${INFRA_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-infrastructure/node}"

# Prints the floor "major.minor.patch" from package.json (">=22.22.0" → 22.22.0).
infra_node_floor() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  sed -n 's/.*"node": *">= *\([0-9][0-9.]*\)".*/\1/p' "$root/package.json" | head -n 1
}

# True when version $1 (x.y.z, no "v") is at least $2.
infra_version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

# A node of ours on PATH: native addons build against its headers, not the machine's npm config.
infra_node_headers() {
  local bin
  bin="$(command -v node 2>/dev/null)"
  case "$bin" in
    "$infra_node_cache"/*) npm_config_nodedir="$(cd "$(dirname "$bin")/.." && pwd)" && export npm_config_nodedir ;;
  esac
}

infra_use_node() {
  local major="$1" arch pkg dir current
  current="$(node --version 2>/dev/null | sed 's/^v//')"
  if [ "${current%%.*}" = "$major" ]; then
    infra_node_headers
    return 0
  fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node.sh: no Node package for $(uname -m); install Node $major yourself" >&2; return 1 ;;
  esac
  pkg="node-linux-$arch"
  dir="$infra_node_cache/$major"
  if [ ! -x "$dir/node_modules/$pkg/bin/node" ]; then
    echo "node.sh: installing Node $major from the npm registry into $dir" >&2
    mkdir -p "$dir" || return 1
    # --prefix keeps it out of any project; no package.json is written there but npm's own.
    (cd "$dir" && npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
      --prefix "$dir" "$pkg@$major" >/dev/null) || {
      echo "node.sh: npm install $pkg@$major failed" >&2
      return 1
    }
  fi
  # Drop a line switched to earlier, so PATH holds one of ours at most.
  PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "^$infra_node_cache/" | paste -sd: -)"
  export PATH="$dir/node_modules/$pkg/bin:$PATH"
  export npm_config_nodedir="$dir/node_modules/$pkg"
  hash -r
}

infra_node_ensure() {
  local floor current
  floor="$(infra_node_floor)"
  current="$(node --version 2>/dev/null | sed 's/^v//')"
  if [ -n "$current" ] && [ -n "$floor" ] && infra_version_ge "$current" "$floor"; then
    infra_node_headers
    return 0
  fi
  echo "node.sh: node ${current:-(none)} is older than the project's floor $floor; using Node 24" >&2
  infra_use_node 24
}

infra_node_ensure
