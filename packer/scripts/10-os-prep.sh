#!/usr/bin/env bash
# Prepare the OS for Oracle Fusion Middleware: the oracle user and oinstall
# group, the directory layout under /u01, and the limits and kernel parameter
# drop-ins. Runs as root and is safe to rerun on the same host.
#
# Inputs (environment): ORACLE_BASE ORACLE_HOME ORACLE_INVENTORY ORACLE_UID OINSTALL_GID
set -euo pipefail

# Packer uploads scripts under random names, so the log prefix is fixed here.
log() { printf '10-os-prep: %s\n' "$*"; }
die() { printf '10-os-prep: error: %s\n' "$*" >&2; exit 1; }

missing=()
for name in ORACLE_BASE ORACLE_HOME ORACLE_INVENTORY ORACLE_UID OINSTALL_GID; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
((${#missing[@]} == 0)) || die "missing environment variables: ${missing[*]}. Set them in the provisioner's environment_vars"
[[ $ORACLE_UID =~ ^[0-9]+$ ]] || die "ORACLE_UID must be a number, got '$ORACLE_UID'"
[[ $OINSTALL_GID =~ ^[0-9]+$ ]] || die "OINSTALL_GID must be a number, got '$OINSTALL_GID'"
((EUID == 0)) || die "must run as root (Packer runs it through sudo)"

###############################################################################
### Group and user ############################################################
###############################################################################

if group_entry=$(getent group oinstall); then
  [[ $(cut -d: -f3 <<<"$group_entry") == "$OINSTALL_GID" ]] \
    || die "group oinstall exists with gid $(cut -d: -f3 <<<"$group_entry"), expected $OINSTALL_GID"
  log "group oinstall already exists with gid $OINSTALL_GID"
else
  groupadd --gid "$OINSTALL_GID" oinstall
  log "created group oinstall with gid $OINSTALL_GID"
fi

if user_entry=$(getent passwd oracle); then
  [[ $(cut -d: -f3 <<<"$user_entry") == "$ORACLE_UID" ]] \
    || die "user oracle exists with uid $(cut -d: -f3 <<<"$user_entry"), expected $ORACLE_UID"
  if [[ $(id -gn oracle) != oinstall || $(cut -d: -f7 <<<"$user_entry") != /bin/bash ]]; then
    usermod --gid oinstall --shell /bin/bash oracle
    log "reset primary group and shell of user oracle"
  fi
  log "user oracle already exists with uid $ORACLE_UID"
else
  useradd --uid "$ORACLE_UID" --gid oinstall --create-home --home-dir /home/oracle --shell /bin/bash oracle
  log "created user oracle with uid $ORACLE_UID"
fi
# No password: operators reach the account through sudo, never by password login.
passwd --lock oracle >/dev/null

###############################################################################
### Directory layout ##########################################################
###############################################################################

# make_dir PATH OWNER:GROUP MODE creates PATH if needed and sets owner and mode,
# so a rerun repairs a directory that was changed by hand.
make_dir() {
  mkdir -p "$1"
  chown "$2" "$1"
  chmod "$3" "$1"
}

make_dir /u01 root:root 0755
make_dir /u01/app oracle:oinstall 0755
make_dir "$ORACLE_BASE" oracle:oinstall 0750
make_dir "$ORACLE_BASE/product" oracle:oinstall 0750
make_dir "$(dirname "$ORACLE_HOME")" oracle:oinstall 0750
make_dir "$ORACLE_HOME" oracle:oinstall 0750
make_dir "$ORACLE_BASE/config" oracle:oinstall 0750
make_dir "$ORACLE_BASE/config/domains" oracle:oinstall 0750
make_dir "$ORACLE_BASE/config/applications" oracle:oinstall 0750
# The Oracle inventory is shared by every oinstall member that installs or patches.
make_dir "$ORACLE_INVENTORY" oracle:oinstall 0770
log "directory layout under /u01 is in place"

###############################################################################
### Resource limits and kernel parameters #####################################
###############################################################################

# write_file PATH MODE writes stdin to PATH in one step, so that a rerun
# replaces the whole file and a failed write never leaves half a file.
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  mv -f "$tmp" "$1"
}

write_file /etc/security/limits.d/90-oracle.conf 0644 <<'CONF'
# Written by osb-image (packer/scripts/10-os-prep.sh) and rewritten on every bake.
# WebLogic and OSB keep many sockets, files and threads open at once.
oracle soft nofile 65536
oracle hard nofile 65536
oracle soft nproc  16384
oracle hard nproc  16384
CONF
log "wrote /etc/security/limits.d/90-oracle.conf"

write_file /etc/sysctl.d/90-oracle.conf 0644 <<'CONF'
# Written by osb-image (packer/scripts/10-os-prep.sh) and rewritten on every bake.
# System-wide open files, far above 65536 per process times a few servers.
fs.file-max = 6815744
# Listen backlog for bursts of HTTP connections. 4096 is the default since
# Linux 5.4, so this raises older kernels to it.
net.core.somaxconn = 4096
# More ephemeral ports for outbound connections from OSB to back ends.
net.ipv4.ip_local_port_range = 9000 65500
CONF
log "wrote /etc/sysctl.d/90-oracle.conf"

# Kernel parameters belong to the running kernel. Inside a chroot that is the
# build host's kernel, so the drop-in takes effect at the image's first boot.
# ischroot (debianutils) exits 0 in a chroot, 1 outside and 2 when it cannot tell.
chroot_status=0
ischroot || chroot_status=$?
if ((chroot_status == 0)); then
  log "SKIPPED: applying kernel parameters — running inside a chroot, where they would change the build host's kernel. They apply at boot from /etc/sysctl.d"
elif ((chroot_status != 1)); then
  log "SKIPPED: applying kernel parameters — ischroot cannot tell whether this is a chroot (exit $chroot_status), so the kernel is left alone. They apply at boot from /etc/sysctl.d"
elif [[ ! -w /proc/sys/net/core/somaxconn ]]; then
  log "SKIPPED: applying kernel parameters — /proc/sys is read-only here, as in a container. They apply at boot from /etc/sysctl.d"
else
  sysctl --load=/etc/sysctl.d/90-oracle.conf
  log "applied /etc/sysctl.d/90-oracle.conf"
fi
