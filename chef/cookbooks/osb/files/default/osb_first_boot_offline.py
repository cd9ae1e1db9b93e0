"""First boot, offline WLST: replace every baked placeholder password before any server starts.

Usage: wlst.sh osb_first_boot_offline.py --spec SPEC --domain-home DIR --role admin|managed

Reads the secret references of the domain spec through the AWS CLI, sets the
admin user's and the spec users' passwords (admin role only, because the admin
server's embedded LDAP is the one that managed servers replicate), sets each data
source's password, and writes boot.properties, which WebLogic encrypts on first
start. Secret values are never printed.
"""

import json
import os
import subprocess
import sys


def read_secret(reference):
    if reference.startswith("ssm:"):
        command = ["aws", "ssm", "get-parameter", "--with-decryption", "--name", reference[len("ssm:"):],
                   "--query", "Parameter.Value", "--output", "text"]
    elif reference.startswith("secretsmanager:"):
        command = ["aws", "secretsmanager", "get-secret-value", "--secret-id", reference[len("secretsmanager:"):],
                   "--query", "SecretString", "--output", "text"]
    else:
        raise ValueError("invalid secret reference %r" % reference)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output, error = process.communicate()
    if process.returncode != 0:
        raise RuntimeError("reading secret %s failed: %s" % (reference, error.strip()))
    return output.rstrip("\n")


def main(argv):
    args = dict(zip(argv[0::2], argv[1::2]))
    spec = json.load(open(args["--spec"]))
    domain_home = args["--domain-home"]
    role = args["--role"]
    admin = spec["adminServer"]
    rcu_password = read_secret(spec["rcu"]["passwordSecret"])

    readDomain(domain_home)  # noqa: F821 - WLST global
    try:
        names = ls("/JDBCSystemResource", returnMap="true")  # noqa: F821
        spec_sources = dict([(ds["name"], ds) for ds in spec.get("dataSources", [])])
        for name in names:
            driver = "/JDBCSystemResource/%s/JdbcResource/%s/JDBCDriverParams/NO_NAME_0" % (name, name)
            reference = spec_sources.get(name, {}).get("passwordSecret")
            cd(driver)  # noqa: F821
            set("PasswordEncrypted", reference and read_secret(reference) or rcu_password)  # noqa: F821
        if role == "admin":
            domain_name = os.path.basename(domain_home.rstrip("/"))
            cd("/Security/%s/User/%s" % (domain_name, admin["adminUser"]))  # noqa: F821
            set("Password", read_secret(admin["adminPasswordSecret"]))  # noqa: F821
            for user in spec.get("security", {}).get("users", []):
                cd("/Security/%s/User/%s" % (domain_name, user["name"]))  # noqa: F821
                set("Password", read_secret(user["passwordSecret"]))  # noqa: F821
        updateDomain()  # noqa: F821
    finally:
        closeDomain()  # noqa: F821

    server = role == "admin" and admin["name"] or None
    if server:
        security_dir = os.path.join(domain_home, "servers", server, "security")
        if not os.path.isdir(security_dir):
            os.makedirs(security_dir)
        boot = os.path.join(security_dir, "boot.properties")
        handle = open(boot, "w")
        try:
            handle.write("username=%s\npassword=%s\n" % (admin["adminUser"], read_secret(admin["adminPasswordSecret"])))
        finally:
            handle.close()
        os.chmod(boot, 384)  # 0600
    print("osb first boot: passwords set for %d data source(s); role %s" % (len(names), role))


if __name__ in ("__main__", "main"):
    try:
        main(sys.argv[1:])
    except Exception as error:
        print("osb first boot failed: %s" % error)
        exit(exitcode=1)  # noqa: F821 - WLST exit
    exit(exitcode=0)  # noqa: F821
