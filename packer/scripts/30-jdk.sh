#!/usr/bin/env bash
# Install the JDK archive under ORACLE_BASE/jdk, point ORACLE_BASE/jdk/current
# at it and export JAVA_HOME for login shells. The archive must contain exactly
# one top directory, which becomes the JDK home. Safe to rerun: the JDK
# directory is replaced as a whole.
#
# Inputs (environment): ORACLE_BASE STAGING_DIR JDK_ARCHIVE_NAME JDK_VERSION
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '30-jdk: %s\n' "$*"; }
die() { printf '30-jdk: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in ORACLE_BASE STAGING_DIR JDK_ARCHIVE_NAME JDK_VERSION; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"
getent group oinstall >/dev/null || die "group oinstall not found. Run 10-os-prep.sh first"

archive="$STAGING_DIR/$JDK_ARCHIVE_NAME"
jdk_root="$ORACLE_BASE/jdk"
[[ -f $archive ]] || die "JDK archive $archive not found. Run 20-fetch-artifacts.sh first and check jdk_archive_name against fetch.curl"

###############################################################################
### Find the JDK home in the archive ##########################################
###############################################################################

listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
tar --list --gzip --file "$archive" >"$listing"
mapfile -t top_dirs < <(sed -E 's#^\./##; s#/.*$##' "$listing" | sort -u)
((${#top_dirs[@]} == 1)) \
  || die "$JDK_ARCHIVE_NAME must contain exactly one top directory (the JDK home), found ${#top_dirs[@]}: ${top_dirs[*]:0:5}"
jdk_name=${top_dirs[0]}
[[ -n $jdk_name && $jdk_name != . && $jdk_name != .. && $jdk_name != current ]] \
  || die "$JDK_ARCHIVE_NAME has an unusable top directory name '$jdk_name'"
log "archive contains JDK home '$jdk_name'"

###############################################################################
### Unpack ####################################################################
###############################################################################

mkdir -p "$jdk_root"
chown root:oinstall "$jdk_root"
chmod 0750 "$jdk_root"

# Unpack next to the final place and swap in, so a failed rerun keeps the old JDK.
unpack_dir=$(mktemp -d "$jdk_root/.unpack.XXXXXX")
trap 'rm -f "$listing"; rm -rf "$unpack_dir"' EXIT
tar --extract --gzip --file "$archive" --directory "$unpack_dir" --no-same-owner --no-same-permissions
chown -R root:oinstall "$unpack_dir"
# Readable by everyone and writable by root only. X keeps executables executable.
chmod -R u=rwX,go=rX "$unpack_dir"

rm -rf "${jdk_root:?}/$jdk_name"
mv "$unpack_dir/$jdk_name" "$jdk_root/$jdk_name"
ln -sfn "$jdk_name" "$jdk_root/current"
chown -h root:oinstall "$jdk_root/current"
log "installed $jdk_root/$jdk_name and linked $jdk_root/current to it"

rm -f "$archive"
log "removed $archive"

###############################################################################
### JAVA_HOME for login shells ################################################
###############################################################################

profile=/etc/profile.d/osb-java.sh
tmp=$(mktemp "$profile.XXXXXX")
cat >"$tmp" <<PROFILE
# Written by osb-image (packer/scripts/30-jdk.sh) and rewritten on every bake.
export JAVA_HOME=$jdk_root/current
case ":\$PATH:" in
  *":\$JAVA_HOME/bin:"*) ;;
  *) export PATH="\$JAVA_HOME/bin:\$PATH" ;;
esac
PROFILE
chmod 0644 "$tmp"
mv -f "$tmp" "$profile"
log "wrote $profile"

###############################################################################
### Verify ####################################################################
###############################################################################

# java -version prints e.g. 'openjdk version "17.0.12" 2024-07-16' on stderr.
# The quoted version must be JDK_VERSION itself or start with it followed by
# '.', '_' or '-', so that 17 matches 17.0.12 but not 171.
# -XX:-UsePerfData keeps the JVM from leaving /tmp/hsperfdata_root behind.
version_output=$("$jdk_root/current/bin/java" -XX:-UsePerfData -version 2>&1)
first_line=${version_output%%$'\n'*}
log "java -version: $first_line"
[[ $first_line =~ version\ \"([^\"]+)\" ]] || die "cannot find a quoted version in java -version output: $first_line"
actual=${BASH_REMATCH[1]}
case $actual in
  "$JDK_VERSION" | "$JDK_VERSION".* | "$JDK_VERSION"_* | "$JDK_VERSION"-*) ;;
  *) die "installed JDK reports version $actual, expected $JDK_VERSION. Check the jdk installer in pipeline.yaml" ;;
esac
log "JDK version $actual matches expected $JDK_VERSION"
