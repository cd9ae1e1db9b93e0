#!/bin/bash
# First boot of an OSB instance (run by osb-first-boot.service; "release" on stop).
#
# Sequence: read the role tags -> read secrets from SSM / Secrets Manager ->
# set passwords offline (admin, users, data sources) -> write boot.properties ->
# admin: update the Route53 record, start the admin server;
# managed: claim a dynamic server slot, register this host as the slot's machine,
# start Node Manager and the managed server -> wait for the OSB health check ->
# cfn-signal. Secret values stay in this process and in the encrypted domain files.
set -euo pipefail

: "${OSB_DOMAIN_HOME:?}" "${OSB_SPEC:?}" "${OSB_SLOT_TABLE:?}" "${OSB_ORACLE_HOME:?}"
FIRST_BOOT_DIR=$(dirname "$(readlink -f "$0")")
WLST="$OSB_ORACLE_HOME/oracle_common/common/bin/wlst.sh"
DONE_MARKER=/var/lib/osb-image/first-boot.done
log() { echo "osb-first-boot: $*" >&2; }

# User data writes /etc/osb-image/instance-role.env with OSB_ROLE ("admin" or
# "managed"), OSB_STACK, OSB_SIGNAL_RESOURCE and, for the admin, OSB_HOSTED_ZONE_ID.
# shellcheck disable=SC1091
source /etc/osb-image/instance-role.env
: "${OSB_ROLE:?}" "${OSB_STACK:?}" "${OSB_SIGNAL_RESOURCE:?}"
ROLE=$OSB_ROLE
STACK=$OSB_STACK
RESOURCE=$OSB_SIGNAL_RESOURCE
# Instance facts from cloud-init's cached instance data.
INSTANCE_ID=$(cloud-init query v1.instance_id)
REGION=$(cloud-init query v1.region)
PRIVATE_IP=$(cloud-init query ds.meta_data.local_ipv4)
export AWS_DEFAULT_REGION=$REGION

spec_value() { python3 -c "import json,sys; d=json.load(open('$OSB_SPEC')); print(eval(sys.argv[1], {}, {'s': d}))" "$1"; }

if [[ "${1:-}" == "release" ]]; then
  if [[ "$ROLE" == "managed" ]]; then
    "$FIRST_BOOT_DIR/osb_slot.py" release --table "$OSB_SLOT_TABLE" --instance-id "$INSTANCE_ID" --region "$REGION"
  fi
  exit 0
fi

signal() {
  cfn-signal --exit-code "$1" --stack "$STACK" --resource "$RESOURCE" --region "$REGION" || log "cfn-signal failed"
}
trap 'status=$?; [[ $status -ne 0 ]] && signal "$status"' EXIT

log "instance $INSTANCE_ID role $ROLE"

# Passwords are set offline before any server starts; osb_first_boot_offline.py reads
# the secret references from the spec and the values through the AWS CLI itself.
"$WLST" "$FIRST_BOOT_DIR/osb_first_boot_offline.py" --spec "$OSB_SPEC" --domain-home "$OSB_DOMAIN_HOME" --role "$ROLE"

if [[ "$ROLE" == "admin" ]]; then
  ADMIN_NAME=$(spec_value "s['adminServer']['listenAddress']")
  ZONE_ID=${OSB_HOSTED_ZONE_ID:?}
  aws route53 change-resource-record-sets --hosted-zone-id "$ZONE_ID" --change-batch \
    "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$ADMIN_NAME\",\"Type\":\"A\",\"TTL\":30,\"ResourceRecords\":[{\"Value\":\"$PRIVATE_IP\"}]}}]}"
  systemctl start osb-admin-server.service
  HEALTH_URL="http://$PRIVATE_IP:$(spec_value "s['adminServer']['listenPort']")/weblogic/ready"
else
  SIZE=$(spec_value "s['cluster']['dynamicClusterSize']")
  SLOT=$("$FIRST_BOOT_DIR/osb_slot.py" claim --table "$OSB_SLOT_TABLE" --instance-id "$INSTANCE_ID" \
    --size "$SIZE" --region "$REGION")
  SERVER_NAME="$(spec_value "s['cluster']['serverNamePrefix']")$SLOT"
  MACHINE_NAME="$(spec_value "s['cluster']['machineNamePrefix']")$(printf "%0${#SIZE}d" "$SLOT")"
  # Calculated listen ports: the template's port plus the slot number minus one.
  PORT=$(( $(spec_value "s['cluster']['listenPort']") + SLOT - 1 ))
  printf 'OSB_SERVER_NAME=%s\nOSB_MACHINE_NAME=%s\nOSB_SLOT=%s\n' "$SERVER_NAME" "$MACHINE_NAME" "$SLOT" \
    > /etc/osb-image/instance.env
  sed -i "s/^ListenAddress=.*/ListenAddress=$PRIVATE_IP/" "$OSB_DOMAIN_HOME/nodemanager/nodemanager.properties"
  "$WLST" "$FIRST_BOOT_DIR/osb_register_machine.py" --spec "$OSB_SPEC" --machine "$MACHINE_NAME" \
    --address "$PRIVATE_IP"
  systemctl start osb-nodemanager.service osb-managed-server.service
  HEALTH_URL="http://$PRIVATE_IP:$PORT${OSB_HEALTH_CHECK_PATH}"
fi

deadline=$(( $(date +%s) + ${OSB_HEALTH_CHECK_TIMEOUT_SECONDS:-900} ))
until curl -sf -o /dev/null "$HEALTH_URL"; do
  if (( $(date +%s) > deadline )); then
    log "health check $HEALTH_URL timed out after ${OSB_HEALTH_CHECK_TIMEOUT_SECONDS:-900} s"
    exit 1
  fi
  sleep 10
done
log "health check $HEALTH_URL passed"
touch "$DONE_MARKER"
trap - EXIT
signal 0
