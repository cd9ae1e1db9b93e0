#!/usr/bin/env bash
# Install Fusion Middleware Infrastructure and Oracle Service Bus into
# ORACLE_HOME with the Oracle Universal Installer in silent mode, then delete
# the installers. With STAND_IN_INSTALLERS=true (local target) the installers
# are stand-in files: the script records what it would have installed in
# ORACLE_HOME/STAND-IN.txt and prints a SKIPPED line per install instead.
#
# Inputs (environment): ORACLE_BASE ORACLE_HOME ORACLE_INVENTORY STAGING_DIR
#   FMW_INSTALLER_NAME OSB_INSTALLER_NAME FMW_VERSION OSB_VERSION STAND_IN_INSTALLERS
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '40-oracle-installers: %s\n' "$*"; }
die() { printf '40-oracle-installers: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in ORACLE_BASE ORACLE_HOME ORACLE_INVENTORY STAGING_DIR \
  FMW_INSTALLER_NAME OSB_INSTALLER_NAME FMW_VERSION OSB_VERSION STAND_IN_INSTALLERS; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
[[ $STAND_IN_INSTALLERS == true || $STAND_IN_INSTALLERS == false ]] \
  || die "STAND_IN_INSTALLERS must be true or false, got '$STAND_IN_INSTALLERS'"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"
getent passwd oracle >/dev/null || die "user oracle not found. Run 10-os-prep.sh first"
[[ -d $ORACLE_HOME ]] || die "$ORACLE_HOME not found. Run 10-os-prep.sh first"

fmw_zip="$STAGING_DIR/$FMW_INSTALLER_NAME"
osb_zip="$STAGING_DIR/$OSB_INSTALLER_NAME"
for installer in "$fmw_zip" "$osb_zip"; do
  [[ -f $installer ]] || die "installer $installer not found. Run 20-fetch-artifacts.sh first and check the installer names against fetch.curl"
done

java="$ORACLE_BASE/jdk/current/bin/java"
inventory_pointer="$ORACLE_BASE/oraInst.loc"
stand_in_record="$ORACLE_HOME/STAND-IN.txt"
work_dir="$ORACLE_BASE/.install-work"

# The installers leave the host whether the installs succeed, fail or are skipped.
remove_installers() {
  rm -rf "$work_dir"
  rm -f "$fmw_zip" "$osb_zip"
}
trap remove_installers EXIT

###############################################################################
### Inventory pointer #########################################################
###############################################################################

# OUI and OPatch find the central inventory through this file (-invPtrLoc).
tmp=$(mktemp "$inventory_pointer.XXXXXX")
printf 'inventory_loc=%s\ninst_group=oinstall\n' "$ORACLE_INVENTORY" >"$tmp"
chown oracle:oinstall "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$inventory_pointer"
log "wrote $inventory_pointer"

###############################################################################
### Stand-in installers (local target) ########################################
###############################################################################

if [[ $STAND_IN_INSTALLERS == true ]]; then
  fmw_sha256=$(sha256sum "$fmw_zip" | cut -d' ' -f1)
  osb_sha256=$(sha256sum "$osb_zip" | cut -d' ' -f1)
  tmp=$(mktemp "$stand_in_record.XXXXXX")
  cat >"$tmp" <<RECORD
This Oracle home contains no Oracle software. The image was baked with stand-in
installers (local target), so both silent installs were skipped.

A bake with the real installers would have run, as user oracle, with
-invPtrLoc $inventory_pointer (inventory $ORACLE_INVENTORY):
  Fusion Middleware Infrastructure $FMW_VERSION from $FMW_INSTALLER_NAME (sha256 $fmw_sha256)
  Oracle Service Bus $OSB_VERSION from $OSB_INSTALLER_NAME (sha256 $osb_sha256)
into ORACLE_HOME $ORACLE_HOME.
RECORD
  chown oracle:oinstall "$tmp"
  chmod 0640 "$tmp"
  mv -f "$tmp" "$stand_in_record"
  log "wrote $stand_in_record"
  log "SKIPPED (local stand-in): Fusion Middleware Infrastructure $FMW_VERSION silent install — $FMW_INSTALLER_NAME is a stand-in file, not the Oracle installer"
  log "SKIPPED (local stand-in): Oracle Service Bus $OSB_VERSION silent install — $OSB_INSTALLER_NAME is a stand-in file, not the Oracle installer"
  log "removing the stand-in installers"
  exit 0
fi

###############################################################################
### Real installers ###########################################################
###############################################################################

# NOTE: this branch has not been run by the repository's tests, which use stand-in
# installers. FMW 12.2.1.3 is certified on JDK 8, so the aws target needs a
# JDK 8 archive. Debian is not a certified OS, hence -ignoreSysPrereqs below.

# A marker file on an AMI with real Oracle software would be a lie.
rm -f "$stand_in_record"
[[ -x $java ]] || die "$java not found. Run 30-jdk.sh first"
command -v python3 >/dev/null || die "python3 not found. It is needed to unpack the installer zips"

rm -rf "$work_dir"
mkdir -p "$work_dir"
chown oracle:oinstall "$work_dir"
chmod 0700 "$work_dir"

# install_product TITLE ZIP INSTALL_TYPE MARKER_DIR runs one silent install as
# oracle, unless MARKER_DIR shows that the product is already in ORACLE_HOME.
install_product() {
  local title=$1 zip=$2 install_type=$3 marker_dir=$4
  local unpack_dir response_file jars
  unpack_dir="$work_dir/$(basename "$zip" .zip)"
  response_file="$unpack_dir.rsp"

  if [[ -d $marker_dir ]]; then
    log "$title is already installed ($marker_dir exists). Skipping its install"
    return 0
  fi

  # Only root can read the staging directory, so root unpacks and hands over.
  python3 -m zipfile --extract "$zip" "$unpack_dir"
  chown -R oracle:oinstall "$unpack_dir"
  mapfile -t jars < <(find "$unpack_dir" -maxdepth 1 -type f -name '*.jar')
  ((${#jars[@]} == 1)) || die "$(basename "$zip") must contain exactly one installer .jar at its top level, found ${#jars[@]}"

  runuser -u oracle -- tee "$response_file" >/dev/null <<RSP
[ENGINE]
Response File Version=1.0.0.0.0
[GENERIC]
ORACLE_HOME=$ORACLE_HOME
INSTALL_TYPE=$install_type
DECLINE_SECURITY_UPDATES=true
SECURITY_UPDATES_VIA_MYORACLESUPPORT=false
RSP

  log "installing $title from $(basename "${jars[0]}")"
  runuser -u oracle -- "$java" -jar "${jars[0]}" -silent -ignoreSysPrereqs \
    -responseFile "$response_file" -invPtrLoc "$inventory_pointer"
  [[ -d $marker_dir ]] || die "$title install finished but $marker_dir is missing. See the installer log under $ORACLE_INVENTORY/logs"
  log "installed $title"
}

install_product "Fusion Middleware Infrastructure $FMW_VERSION" "$fmw_zip" "Fusion Middleware Infrastructure" "$ORACLE_HOME/oracle_common"
install_product "Oracle Service Bus $OSB_VERSION" "$osb_zip" "Service Bus" "$ORACLE_HOME/osb"
log "removing the installers"
