#!/usr/bin/env bash
# Local target only: stand in for `chef-solo -o role[osb-domain]`, because
# Chef Infra Client is not installed there. The script does what the osb
# cookbook's domain, services and first_boot recipes do, with the files the
# driver rendered from chef/ (builder/domain_render.py):
#   domain      install wlst/ as /opt/osb-image/wlst, write the domain spec and
#               run osb_domain.py --spec SPEC --asg-max N as oracle, under Jython
#               with the WLST stand-in instead of Oracle's wlst.sh;
#   services    install the four osb-* systemd units, enable osb-first-boot only;
#   first_boot  install the first-boot scripts and /etc/osb-image/first-boot.env.
# Safe to rerun: files are replaced whole and osb_domain.py reconciles an
# existing domain ("0 change(s)" when nothing differs).
#
# Inputs (environment): UPLOAD_DIR STAGING_DIR ORACLE_BASE ORACLE_HOME
#   ENVIRONMENT ASG_MAX STAND_IN_CHEF WLST_STANDIN_ARCHIVE_NAME
#   (CHEF_INSTALLER_NAME is accepted and not used)
# Uploads under UPLOAD_DIR: chef/ wlst/ domain-spec.json domain-files/
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '50-domain-chef-standin: %s\n' "$*"; }
die() { printf '50-domain-chef-standin: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in UPLOAD_DIR STAGING_DIR ORACLE_BASE ORACLE_HOME ENVIRONMENT ASG_MAX STAND_IN_CHEF WLST_STANDIN_ARCHIVE_NAME; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
[[ $STAND_IN_CHEF == true ]] || die "STAND_IN_CHEF is '$STAND_IN_CHEF'. This stand-in is for the local target only; run 50-domain.sh with Chef Infra Client instead"
[[ $ASG_MAX =~ ^[1-9][0-9]*$ ]] || die "ASG_MAX must be a positive whole number, got '$ASG_MAX'"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"
getent passwd oracle >/dev/null || die "user oracle not found. Bake the domain layer on a base image (10-os-prep.sh)"
command -v python3 >/dev/null || die "python3 not found. It reads the domain spec"

chef_dir="$UPLOAD_DIR/chef"
cookbook_files="$chef_dir/cookbooks/osb/files/default"
wlst_upload="$UPLOAD_DIR/wlst"
spec_upload="$UPLOAD_DIR/domain-spec.json"
rendered="$UPLOAD_DIR/domain-files"
runtime_archive="$STAGING_DIR/$WLST_STANDIN_ARCHIVE_NAME"
java="$ORACLE_BASE/jdk/current/bin/java"
wlst_dir=/opt/osb-image/wlst
runtime_dir=/opt/osb-image/wlst-standin
units=(osb-nodemanager.service osb-admin-server.service osb-managed-server.service osb-first-boot.service)
first_boot_scripts=(osb_first_boot.sh osb_managed_server.sh osb_slot.py osb_first_boot_offline.py osb_register_machine.py)

for path in "$chef_dir" "$wlst_upload" "$rendered"; do
  [[ -d $path ]] || die "$path not found. The file provisioners must upload chef_dir, wlst_dir and domain_files_dir first"
done
[[ -f $spec_upload ]] || die "$spec_upload not found. The file provisioner must upload domain_spec_file first"
[[ -f $wlst_upload/osb_domain.py ]] || die "$wlst_upload/osb_domain.py not found. wlst_dir must be the repository's wlst/ directory"
[[ -f $runtime_archive ]] || die "$runtime_archive not found. Run 20-fetch-artifacts.sh first and check wlst_standin_archive_name against fetch.curl"
[[ -x $java ]] || die "$java not found. Bake the domain layer on a base image (30-jdk.sh)"
for unit in "${units[@]}"; do
  [[ -f $rendered/etc/systemd/system/$unit ]] || die "$rendered/etc/systemd/system/$unit not found. Fill domain_files_dir with builder.domain_render.write_domain_files"
done
[[ -f $rendered/etc/osb-image/first-boot.env ]] || die "$rendered/etc/osb-image/first-boot.env not found. Fill domain_files_dir with builder.domain_render.write_domain_files"
for script in "${first_boot_scripts[@]}"; do
  [[ -f $cookbook_files/$script ]] || die "$cookbook_files/$script not found. chef_dir must be the repository's chef/ directory"
done

log "SKIPPED (local stand-in): chef-solo --environment $ENVIRONMENT --override-runlist 'role[osb-domain]' — Chef Infra Client is not installed on the local target, so this script does the domain, services and first_boot recipes' work with the files the driver rendered from chef/"

# write_file PATH OWNER:GROUP MODE writes stdin to PATH in one step, so a rerun
# replaces the whole file and a failed write never leaves half a file.
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chown "$2" "$tmp"
  chmod "$3" "$tmp"
  mv -f "$tmp" "$1"
}

# install_tree SOURCE DESTINATION copies a directory as root:root with modes
# 0755/0644 and swaps it in whole, so no file of an earlier install remains.
install_tree() {
  local source=$1 destination=$2
  rm -rf "$destination.new"
  cp -R "$source" "$destination.new"
  chown -R root:root "$destination.new"
  find "$destination.new" -type d -exec chmod 0755 {} +
  find "$destination.new" -type f -exec chmod 0644 {} +
  rm -rf "$destination"
  mv "$destination.new" "$destination"
}

###############################################################################
### WLST scripts and the WLST stand-in runtime (recipe domain) ################
###############################################################################

mkdir -p /opt/osb-image
chmod 0755 /opt/osb-image
install_tree "$wlst_upload" "$wlst_dir"
# Compiled Jython classes ($py.class) in the upload can carry a newer file time
# than the sources they were compiled from, so Jython would run stale code.
# Without them Jython compiles the sources itself.
find "$wlst_dir" -name "*\$py.class" -delete
log "installed $wlst_dir"

# The archive's single top directory (jython-VERSION) contains lib/*.jar.
mapfile -t top_dirs < <(tar --list --gzip --file "$runtime_archive" | sed -E 's#^\./##; s#/.*$##' | sort -u)
if ((${#top_dirs[@]} != 1)) || [[ ${top_dirs[0]} != jython-* ]]; then
  die "$WLST_STANDIN_ARCHIVE_NAME must contain exactly one top directory jython-VERSION, found: ${top_dirs[*]:0:5}"
fi
unpacked="$STAGING_DIR/wlst-standin"
rm -rf "$unpacked"
mkdir -p "$unpacked"
tar --extract --gzip --file "$runtime_archive" --directory "$unpacked" --no-same-owner
install_tree "$unpacked" "$runtime_dir"
rm -rf "$unpacked"
jython_lib="$runtime_dir/${top_dirs[0]}/lib"
compgen -G "$jython_lib/jython-*.jar" >/dev/null || die "$jython_lib has no jython-*.jar. Rebuild the archive with build_wlst_standin_runtime"
log "installed the WLST stand-in runtime (${top_dirs[0]}, not Oracle WLST) in $runtime_dir"

###############################################################################
### Domain spec (recipe domain) ###############################################
###############################################################################

# The path comes from the rendered first-boot.env, so first boot reads the same file.
spec_path=$(sed -n 's/^OSB_SPEC=//p' "$rendered/etc/osb-image/first-boot.env")
[[ $spec_path == /* ]] || die "$rendered/etc/osb-image/first-boot.env has no absolute OSB_SPEC path"

# A key that names a password or secret may only contain an ssm:/ or secretsmanager: name.
python3 - "$spec_upload" <<'PY' || die "the domain spec contains secret values. Put SSM or Secrets Manager names in chef/ instead"
import json, re, sys
key_pattern = re.compile(r"password|passwd|secret|token|credential", re.IGNORECASE)
reference = re.compile(r"^(ssm:/|secretsmanager:)\S+$")
bad = []
def walk(value, pointer):
    if isinstance(value, dict):
        for key, child in value.items():
            if key_pattern.search(key) and not (isinstance(child, str) and reference.match(child)):
                bad.append(pointer + "/" + key)
            walk(child, pointer + "/" + key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            walk(child, "%s/%d" % (pointer, index))
walk(json.load(open(sys.argv[1])), "")
for pointer in bad:
    print("50-domain-chef-standin: error: %s contains a value, not a secret name" % pointer, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

mkdir -p "$(dirname "$spec_path")"
chmod 0755 "$(dirname "$spec_path")"
write_file "$spec_path" oracle:oinstall 0640 <"$spec_upload"
log "wrote $spec_path for environment $ENVIRONMENT"

domain_home=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["domain"]["home"])' "$spec_path")
[[ $domain_home == "$ORACLE_BASE"/config/domains/* ]] \
  || die "the spec's domain.home $domain_home is not under $ORACLE_BASE/config/domains. Fix domains_dir in chef/cookbooks/osb/attributes/default.rb"

###############################################################################
### Domain build with the WLST stand-in (recipe domain) #######################
###############################################################################

# The recipe reads the RCU password from the secret store because Oracle's
# getDatabaseDefaults() connects to the RCU database. The WLST stand-in
# contacts no database, so a random value generated for this run takes its
# place: it is not the RCU password, and osb_domain.py clears it from every
# data source before writing the domain.
rcu_placeholder=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')

log "running osb_domain.py --spec $spec_path --asg-max $ASG_MAX as oracle under Jython with the WLST stand-in (--wlst-standin): not Oracle WLST, no database"
# -Dpython.cachedir.skip keeps Jython from writing a package cache into oracle's home.
(
  cd "$wlst_dir"
  export JAVA_HOME="$ORACLE_BASE/jdk/current"
  export OSB_RCU_PASSWORD=$rcu_placeholder
  runuser -u oracle -- "$java" -XX:-UsePerfData -Dpython.cachedir.skip=true \
    -cp "$jython_lib/*" org.python.util.jython \
    "$wlst_dir/osb_domain.py" --spec "$spec_path" --asg-max "$ASG_MAX" --wlst-standin
) || die "osb_domain.py failed (exit status $?). See its log lines above"
unset rcu_placeholder

[[ -f $domain_home/config/config.xml ]] || die "osb_domain.py finished but $domain_home/config/config.xml is missing"
boot_files=$(find "$domain_home" -name boot.properties -print)
[[ -z $boot_files ]] || die "boot.properties found in the domain: $boot_files. First boot writes it from the secret store; the image must not contain one"
log "domain $domain_home is in place"

###############################################################################
### systemd units (recipe services) ###########################################
###############################################################################

mkdir -p /etc/systemd/system/multi-user.target.wants
for unit in "${units[@]}"; do
  write_file "/etc/systemd/system/$unit" root:root 0644 <"$rendered/etc/systemd/system/$unit"
done
log "installed ${units[*]}"

# Only first boot is enabled: it starts Node Manager and the servers. The link
# is the one systemctl enable creates, made by hand because no systemd runs in a
# chroot. Links of the other units from an earlier run are removed.
for unit in "${units[@]}"; do
  if [[ $unit != osb-first-boot.service ]]; then
    rm -f "/etc/systemd/system/multi-user.target.wants/$unit"
  fi
done
ln -sfn /etc/systemd/system/osb-first-boot.service /etc/systemd/system/multi-user.target.wants/osb-first-boot.service
log "enabled osb-first-boot.service only"
log "SKIPPED (local stand-in): systemctl daemon-reload — no systemd runs in the local builder's chroot; the units load at the instance's first boot"

###############################################################################
### First-boot scripts and settings (recipe first_boot) #######################
###############################################################################

first_boot_dir=$(sed -n 's#^ExecStart=\(/.*\)/osb_first_boot\.sh$#\1#p' "$rendered/etc/systemd/system/osb-first-boot.service")
[[ -n $first_boot_dir ]] || die "cannot find the first-boot directory in the ExecStart line of the rendered osb-first-boot.service"
mkdir -p "$first_boot_dir"
chown root:oinstall "$first_boot_dir"
chmod 0755 "$first_boot_dir"
for script in "${first_boot_scripts[@]}"; do
  write_file "$first_boot_dir/$script" root:oinstall 0755 <"$cookbook_files/$script"
done
log "installed the first-boot scripts in $first_boot_dir"

write_file /etc/osb-image/first-boot.env root:root 0644 <"$rendered/etc/osb-image/first-boot.env"
mkdir -p /var/lib/osb-image
chmod 0755 /var/lib/osb-image
log "wrote /etc/osb-image/first-boot.env"
log "SKIPPED (local stand-in): first boot's AWS tools (aws CLI, boto3, cfn-signal) — the local target runs no instance of the image, so nothing installs them here"
