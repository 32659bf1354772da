# shellcheck shell=bash
# Shared by scripts/demo and scripts/test (sourced, not run): system packages through apt-get (as root, or with
# sudo when not root), a Python 3.11 or newer, and outmail's own virtual env (.venv, or $OUTMAIL_VENV).

VENV="${OUTMAIL_VENV:-.venv}"
_apt_updated=no

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "this step needs root: run the command as root, or install sudo ($*)"
  fi
}

# Install Debian/Ubuntu packages (noninteractive, quiet).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "needs the packages $* (no apt-get here: install them, then run again)"
  say "installing system packages: $*"
  if [ "$_apt_updated" = no ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _apt_updated=yes
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

# The first Python 3.11 or newer on PATH.
find_python() {
  local p
  for p in python3 python3.13 python3.12 python3.11; do
    if command -v "$p" >/dev/null 2>&1 && _py_ok "$p"; then
      command -v "$p"
      return 0
    fi
  done
  return 1
}

# Make $VENV a working virtual env of Python 3.11 or newer with pip (created when missing or broken). Debian and
# Ubuntu refuse `pip install` outside a virtual env (PEP 668) and ship venv's pip separately (python3-venv).
ensure_venv() {
  if [ -x "$VENV/bin/python" ] && _py_ok "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
  then
    return 0
  fi
  local py
  if ! py=$(find_python); then
    apt_install python3 python3-venv
    py=$(find_python) || { apt_install python3.11 python3.11-venv; py=$(find_python); } \
      || die "outmail needs Python 3.11 or newer (this system's python3 is older and has no python3.11 package)"
  fi
  say "creating the virtual env $VENV with $py"
  rm -rf "$VENV"
  if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    local name
    name=$(basename "$py")
    apt_install "$name-venv"
    "$py" -m venv "$VENV" || die "cannot create the virtual env $VENV with $py"
  fi
}
