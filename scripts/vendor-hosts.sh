#!/usr/bin/env bash
# Makes the host programs that Debian does not package available to the tests, when their archives
# are present beside the project (../shared/vendor, or ATOMFP_VENDOR_DIR): the prebuilt PLUMED is
# unpacked into /opt (its prefix is compiled in; needs root). The i-PI source archive is unpacked
# by its test itself. Nothing is downloaded; without the archives those tests report themselves
# skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=${ATOMFP_VENDOR_DIR:-../shared/vendor}
plumed_archive="$vendor/plumed-2.9.5-minimal-debian12.tar.gz"
plumed_prefix=/opt/plumed-2.9.5-minimal
if [ -x "$plumed_prefix/bin/plumed" ]; then
  echo "PLUMED: $plumed_prefix"
elif [ -f "$plumed_archive" ]; then
  if tar -xzf "$plumed_archive" -C /opt; then
    echo "PLUMED: unpacked $plumed_archive into $plumed_prefix"
  else
    echo "PLUMED: cannot unpack $plumed_archive into /opt (not root?); the PLUMED tests will be skipped"
  fi
else
  echo "PLUMED: $plumed_archive is absent; the PLUMED tests will be skipped"
fi
if [ -f "$vendor/i-pi-3.3.0.tar.gz" ]; then
  echo "i-PI: $vendor/i-pi-3.3.0.tar.gz"
else
  echo "i-PI: $vendor/i-pi-3.3.0.tar.gz is absent; the i-PI server test will be skipped"
fi
