#!/usr/bin/env bash
# Download the installers from S3 into a root-only staging directory and check
# them against SHA256SUMS. The presigned URLs stay inside fetch.curl: they never
# appear on a command line, in the environment or in this script's output.
#
# Inputs (environment): UPLOAD_DIR (contains fetch.curl and SHA256SUMS), STAGING_DIR
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '20-fetch-artifacts: %s\n' "$*"; }
die() { printf '20-fetch-artifacts: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in UPLOAD_DIR STAGING_DIR; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"

fetch_config="$UPLOAD_DIR/fetch.curl"
checksums="$UPLOAD_DIR/SHA256SUMS"
[[ -f $fetch_config ]] || die "$fetch_config not found. The file provisioner must upload artifacts_dir first"
[[ -f $checksums ]] || die "$checksums not found. The file provisioner must upload artifacts_dir first"

###############################################################################
### Check the download list ###################################################
###############################################################################

# Every file that curl writes must be a plain name inside STAGING_DIR and must
# have a line in SHA256SUMS, so that nothing unchecked reaches the image.
mapfile -t outputs < <(sed -nE 's/^[[:space:]]*output[[:space:]]*[=:]?[[:space:]]*"?([^"]*)"?[[:space:]]*$/\1/p' "$fetch_config")
((${#outputs[@]} > 0)) || die "$fetch_config has no output lines. Write one 'output = \"NAME\"' after each url"

for output in "${outputs[@]}"; do
  [[ -n $output && $output != */* && $output != . && $output != .. ]] \
    || die "$fetch_config: output '$output' must be a plain file name without a slash"
  awk -v name="$output" '{ file = $2; sub(/^\*/, "", file); if (file == name) found = 1 } END { exit !found }' "$checksums" \
    || die "$checksums has no checksum for '$output'. Add one line per downloaded file"
done
log "fetch.curl lists ${#outputs[@]} files, each with a checksum"

###############################################################################
### Download ##################################################################
###############################################################################

mkdir -p "$STAGING_DIR"
chown root:root "$STAGING_DIR"
chmod 0700 "$STAGING_DIR"

# Files are created 0600. --output-dir keeps relative output names inside the
# staging directory, and --remove-on-error drops a partial file after a failure.
umask 077
curl --fail --silent --show-error --location \
  --retry 3 --retry-connrefused \
  --remove-on-error \
  --output-dir "$STAGING_DIR" \
  --config "$fetch_config"
log "downloaded ${#outputs[@]} files into $STAGING_DIR"

###############################################################################
### Verify ####################################################################
###############################################################################

# --strict also rejects malformed lines in SHA256SUMS.
if ! (cd "$STAGING_DIR" && sha256sum --strict --check "$checksums"); then
  die "SHA-256 check failed for the files above. The bucket objects do not match SHA256SUMS, so the bake stops"
fi
log "all downloads match SHA256SUMS"
