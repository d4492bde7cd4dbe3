#!/usr/bin/env bash
# Checks deploy/ as far as a machine without a Docker daemon allows
# (docs/deploy.md says what is and is not exercised). Usage:
#   deploy/check.sh [path/to/enrol]     # default target/debug/enrol
set -euo pipefail
cd "$(dirname "$0")/.."
enrol="$(realpath "${1:-target/debug/enrol}")"

# The Dockerfile: hadolint, every rule down to `info`.
hadolint --failure-threshold info deploy/Dockerfile

# The systemd unit: systemd-analyze verify, with ExecStart's binary this build's.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/enrol|$enrol|" deploy/enrol.service > "$tmp/enrol.service"
systemd-analyze verify "$tmp/enrol.service"

# The unit's and the image's command line is one the binary takes.
"$enrol" serve --config deploy/enrol.toml --help > /dev/null

# The compose file: parsed and cross-checked (no compose plugin here).
python3 deploy/check_compose.py deploy/compose.yaml
echo "deploy/: checked"
