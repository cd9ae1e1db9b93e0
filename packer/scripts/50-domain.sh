#!/usr/bin/env bash
# Bake the OSB domain layer with Chef. The script installs Chef Infra Client (or
# Cinc) from the downloaded .deb and installs wlst/ as /opt/osb-image/wlst. It
# runs chef-solo in local mode with role[osb-domain] and the Chef environment
# ENVIRONMENT, checks that Chef wrote the domain spec the driver validated, and
# removes Chef again, because nothing in the image runs it after the bake.
# Safe to rerun.
#
# Inputs (environment): UPLOAD_DIR STAGING_DIR ORACLE_BASE ORACLE_HOME
#   ENVIRONMENT ASG_MAX STAND_IN_CHEF CHEF_INSTALLER_NAME
#   (WLST_STANDIN_ARCHIVE_NAME is accepted and not used)
# Uploads under UPLOAD_DIR: chef/ wlst/ domain-spec.json
#
# NOTE: this script has not run in the repository's tests, which use the local
# target's stand-in (packer/scripts/local/50-domain-chef-standin.sh). The domain
# recipe reads the RCU password from the secret store with the aws CLI, so the
# builder instance needs an instance profile that can read that secret.
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '50-domain: %s\n' "$*"; }
die() { printf '50-domain: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in UPLOAD_DIR STAGING_DIR ORACLE_BASE ORACLE_HOME ENVIRONMENT ASG_MAX STAND_IN_CHEF CHEF_INSTALLER_NAME; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars (CHEF_INSTALLER_NAME from installers.chef_client in pipeline.yaml)"
[[ $STAND_IN_CHEF == false ]] || die "STAND_IN_CHEF is '$STAND_IN_CHEF'. Without Chef Infra Client use packer/scripts/local/50-domain-chef-standin.sh"
[[ $ASG_MAX =~ ^[1-9][0-9]*$ ]] || die "ASG_MAX must be a positive whole number, got '$ASG_MAX'"
[[ $CHEF_INSTALLER_NAME == *.deb ]] || die "CHEF_INSTALLER_NAME must name a .deb package for this Debian image, got '$CHEF_INSTALLER_NAME'"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"
getent passwd oracle >/dev/null || die "user oracle not found. Bake the domain layer on a base image (10-os-prep.sh)"
[[ -d $ORACLE_HOME ]] || die "$ORACLE_HOME not found. Bake the domain layer on a base image (40-oracle-installers.sh)"

chef_dir="$UPLOAD_DIR/chef"
wlst_upload="$UPLOAD_DIR/wlst"
spec_upload="$UPLOAD_DIR/domain-spec.json"
installer="$STAGING_DIR/$CHEF_INSTALLER_NAME"
work_dir=/var/tmp/osb-image-chef
wlst_dir=/opt/osb-image/wlst

for path in "$chef_dir/cookbooks" "$chef_dir/roles" "$chef_dir/environments" "$chef_dir/data_bags" "$wlst_upload"; do
  [[ -d $path ]] || die "$path not found. The file provisioners must upload chef_dir and wlst_dir first"
done
[[ -f $chef_dir/environments/$ENVIRONMENT.json ]] || die "Chef environment $chef_dir/environments/$ENVIRONMENT.json not found"
[[ -f $spec_upload ]] || die "$spec_upload not found. The file provisioner must upload domain_spec_file first"
[[ -f $installer ]] || die "$installer not found. Run 20-fetch-artifacts.sh first and check chef_installer_name against fetch.curl"

# The Chef cache and node files are build-only.
cleanup() { rm -rf "$work_dir"; }
trap cleanup EXIT

###############################################################################
### Chef Infra Client #########################################################
###############################################################################

chef_package=$(dpkg-deb --field "$installer" Package)
[[ -n $chef_package ]] || die "$CHEF_INSTALLER_NAME has no Package field; it is not a Debian package"
dpkg --install "$installer"
solo=""
for candidate in chef-solo cinc-solo; do
  if command -v "$candidate" >/dev/null; then
    solo=$(command -v "$candidate")
    break
  fi
done
[[ -n $solo ]] || die "package $chef_package installed neither chef-solo nor cinc-solo"
log "installed $chef_package ($solo)"

# The domain recipe reads the RCU password with the aws CLI, and the first-boot
# scripts need the aws CLI and boto3 on every instance.
if ! command -v aws >/dev/null || ! python3 -c 'import boto3' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq awscli python3-boto3
  log "installed awscli and python3-boto3"
fi

###############################################################################
### WLST scripts ##############################################################
###############################################################################

mkdir -p /opt/osb-image
chmod 0755 /opt/osb-image
rm -rf "$wlst_dir.new"
cp -R "$wlst_upload" "$wlst_dir.new"
chown -R root:root "$wlst_dir.new"
find "$wlst_dir.new" -type d -exec chmod 0755 {} +
find "$wlst_dir.new" -type f -exec chmod 0644 {} +
# Compiled Jython classes ($py.class) in the upload can carry a newer file time
# than the sources they were compiled from, so WLST would run stale code.
# Without them WLST compiles the sources itself.
find "$wlst_dir.new" -name "*\$py.class" -delete
rm -rf "$wlst_dir"
mv "$wlst_dir.new" "$wlst_dir"
log "installed $wlst_dir"

###############################################################################
### chef-solo #################################################################
###############################################################################

rm -rf "$work_dir"
mkdir -p "$work_dir"
chmod 0700 "$work_dir"
cat >"$work_dir/solo.rb" <<SOLO
# Written by packer/scripts/50-domain.sh for one bake and deleted after it.
cookbook_path ['$chef_dir/cookbooks']
role_path '$chef_dir/roles'
environment_path '$chef_dir/environments'
data_bag_path '$chef_dir/data_bags'
environment '$ENVIRONMENT'
file_cache_path '$work_dir/cache'
node_path '$work_dir/nodes'
SOLO
# Normal-level attribute: the environment files do not set it, so it wins over the cookbook default.
printf '{"osb": {"domain": {"asg_max": %d}}}\n' "$ASG_MAX" >"$work_dir/attributes.json"

log "running $solo with role[osb-domain], environment $ENVIRONMENT, asg_max $ASG_MAX"
"$solo" --config "$work_dir/solo.rb" --json-attributes "$work_dir/attributes.json" \
  --environment "$ENVIRONMENT" --override-runlist 'role[osb-domain]' \
  --chef-license accept-silent --no-color --log_level warn

###############################################################################
### Check the rendered spec ###################################################
###############################################################################

# osb-image validate checked the spec that builder/domain_render.py rendered.
# Chef must have written the same one, or the validation covered another domain.
spec_path=$(sed -n 's/^OSB_SPEC=//p' /etc/osb-image/first-boot.env)
[[ -f $spec_path ]] || die "the domain recipe wrote no spec at '$spec_path' (OSB_SPEC in /etc/osb-image/first-boot.env)"
python3 - "$spec_path" "$spec_upload" <<'PY' || die "$spec_path differs from the spec the driver rendered and validated. Compare builder/domain_render.py with chef/cookbooks/osb/libraries/domain_spec.rb"
import json, sys
sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)
PY
log "$spec_path equals the spec the driver rendered"

###############################################################################
### Remove Chef ###############################################################
###############################################################################

dpkg --purge "$chef_package"
rm -rf /etc/chef /etc/cinc /var/chef /var/cinc /root/.chef /root/.cinc
log "removed $chef_package; the image does not run Chef after the bake"
