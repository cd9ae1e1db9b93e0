#!/bin/bash
# Start or stop this instance's dynamic server through the local Node Manager.
# OSB_SERVER_NAME comes from /etc/osb-image/instance.env, written by first boot;
# OSB_DOMAIN_HOME and OSB_ORACLE_HOME from /etc/osb-image/first-boot.env, baked
# with the image. osb-managed-server.service reads both files.
set -euo pipefail
: "${OSB_SERVER_NAME:?}" "${OSB_DOMAIN_HOME:?}" "${OSB_ORACLE_HOME:?}"
WLST="$OSB_ORACLE_HOME/oracle_common/common/bin/wlst.sh"
DOMAIN_NAME=$(basename "$OSB_DOMAIN_HOME")
case "${1:-}" in
  start) verb=nmStart ;;
  stop) verb=nmKill ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
# Node Manager credentials come from the domain's nm_password.properties, set by first boot.
"$WLST" -skipWLSModuleScanning <<WLST
nmConnect(domainName='$DOMAIN_NAME', domainDir='$OSB_DOMAIN_HOME', nmType='ssl', host='localhost', port='5556')
$verb('$OSB_SERVER_NAME')
nmDisconnect()
WLST
