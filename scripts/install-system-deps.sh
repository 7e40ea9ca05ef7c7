#!/usr/bin/env bash
# Install the Debian packages gridsvc needs, only those that are missing:
# PostgreSQL 15 + PostGIS 3 (the local cluster), Chromium (browser tests, map checks), Noto CJK fonts (PDFs,
# screenshots), poppler-utils (PDF page checks); for `make bench`, wrk.
set -euo pipefail

missing=()
pg_bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$pg_bindir" ] || [ ! -x "$pg_bindir/initdb" ]; then
  missing+=(postgresql-15 postgresql-15-postgis-3)
elif ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  missing+=(postgresql-15-postgis-3)
fi
if [ "${GRIDSVC_SKIP_BROWSER:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fi
if [ "${GRIDSVC_BENCH_TOOLS:-0}" = "1" ]; then  # make bench: wrk, a C load generator (HTTP lookups against /docs)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to run: apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
