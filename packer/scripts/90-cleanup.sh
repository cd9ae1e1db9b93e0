#!/usr/bin/env bash
# Seal the image: delete downloads and build-only credentials, reset
# per-instance identity (SSH host keys, machine-id, cloud-init state), record
# the build in /etc/osb-image/build-info and fail if anything is left
# world-writable. This is the last provisioner: after it the builder key can no
# longer log in, but the running Packer session is not affected.
#
# Inputs (environment): UPLOAD_DIR STAGING_DIR SSH_USERNAME RUN_ID IMAGE_LAYER
#   SOURCE_AMI JDK_VERSION FMW_VERSION OSB_VERSION STAND_IN_INSTALLERS
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '90-cleanup: %s\n' "$*"; }
die() { printf '90-cleanup: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in UPLOAD_DIR STAGING_DIR SSH_USERNAME RUN_ID IMAGE_LAYER SOURCE_AMI \
  JDK_VERSION FMW_VERSION OSB_VERSION STAND_IN_INSTALLERS; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"
ssh_home=$(getent passwd "$SSH_USERNAME" | cut -d: -f6) || die "SSH user '$SSH_USERNAME' not found"
[[ -n $ssh_home ]] || die "SSH user '$SSH_USERNAME' has no home directory"

###############################################################################
### Downloads #################################################################
###############################################################################

# UPLOAD_DIR contains fetch.curl with the presigned URLs.
rm -rf "$STAGING_DIR" "$UPLOAD_DIR"
log "removed $STAGING_DIR and $UPLOAD_DIR"

###############################################################################
### Shell histories and builder SSH keys ######################################
###############################################################################

history_homes=(/root "$ssh_home")
if oracle_home_dir=$(getent passwd oracle | cut -d: -f6) && [[ -n $oracle_home_dir ]]; then
  history_homes+=("$oracle_home_dir")
fi
for home in "${history_homes[@]}"; do
  for history_file in .bash_history .sh_history .zsh_history .history .python_history .lesshst .viminfo .wget-hsts; do
    rm -f "$home/$history_file"
  done
done
log "removed shell histories under ${history_homes[*]}"

# The builder key is in the SSH user's file and, on Debian cloud images, in
# root's file too. Instances receive their own key at launch.
for keys_file in "$ssh_home/.ssh/authorized_keys" "$ssh_home/.ssh/authorized_keys2" \
  /root/.ssh/authorized_keys /root/.ssh/authorized_keys2; do
  if [[ -e $keys_file ]]; then
    rm -f "$keys_file"
    log "removed $keys_file"
  fi
done

###############################################################################
### Per-instance identity #####################################################
###############################################################################

# Every instance must get its own SSH host keys. cloud-init regenerates them on
# the first boot of a new instance. This unit covers hosts without cloud-init,
# where Debian's ssh.service would otherwise fail for lack of keys.
rm -f /etc/ssh/ssh_host_*
log "removed SSH host keys"
hostkeys_unit=/etc/systemd/system/osb-image-ssh-hostkeys.service
mkdir -p /etc/systemd/system/multi-user.target.wants
cat >"$hostkeys_unit" <<'UNIT'
# Written by osb-image (packer/scripts/90-cleanup.sh).
[Unit]
Description=Generate the SSH host keys that were removed from the osb-image AMI
Before=ssh.service
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$hostkeys_unit"
# Same link that systemctl enable creates. Made by hand because systemctl may
# be missing on the build host.
ln -sfn "$hostkeys_unit" /etc/systemd/system/multi-user.target.wants/osb-image-ssh-hostkeys.service
log "enabled osb-image-ssh-hostkeys.service to create host keys at first boot"

# An empty machine-id makes systemd generate a new one at first boot.
if [[ -e /etc/machine-id ]]; then
  : >/etc/machine-id
  log "emptied /etc/machine-id"
fi
if [[ -f /var/lib/dbus/machine-id && ! -L /var/lib/dbus/machine-id ]]; then
  rm -f /var/lib/dbus/machine-id
  log "removed /var/lib/dbus/machine-id"
fi

if command -v cloud-init >/dev/null; then
  cloud-init clean --logs
  log "cleaned cloud-init state and logs, so the first boot runs every module again"
else
  log "SKIPPED: cloud-init clean — cloud-init is not installed"
fi

###############################################################################
### Package caches ############################################################
###############################################################################

apt-get clean
rm -rf /var/lib/apt/lists/*
log "removed apt caches and package lists"

###############################################################################
### Build record ##############################################################
###############################################################################

mkdir -p /etc/osb-image
chmod 0755 /etc/osb-image
tmp=$(mktemp /etc/osb-image/build-info.XXXXXX)
cat >"$tmp" <<INFO
# Written by osb-image (packer/scripts/90-cleanup.sh) when the image was sealed.
run_id=$RUN_ID
layer=$IMAGE_LAYER
source_ami=$SOURCE_AMI
jdk_version=$JDK_VERSION
fmw_version=$FMW_VERSION
osb_version=$OSB_VERSION
stand_in_installers=$STAND_IN_INSTALLERS
sealed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
INFO
chmod 0644 "$tmp"
mv -f "$tmp" /etc/osb-image/build-info
log "wrote /etc/osb-image/build-info"

###############################################################################
### World-writable files ######################################################
###############################################################################

# Sticky directories such as /tmp are world-writable by design and allowed.
scan_roots=()
for root in /etc /home /root /opt /srv /usr/local /u01; do
  if [[ -d $root ]]; then
    scan_roots+=("$root")
  fi
done
world_writable=$(find "${scan_roots[@]}" -xdev \
  \( -type f -perm -0002 \) -o \( -type d -perm -0002 ! -perm -1000 \))
if [[ -n $world_writable ]]; then
  printf '%s\n' "$world_writable" >&2
  die "the paths above are world-writable. Fix their modes in the script that creates them"
fi
log "no world-writable files or non-sticky directories under ${scan_roots[*]}"
