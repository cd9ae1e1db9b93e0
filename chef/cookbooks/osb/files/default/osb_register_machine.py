"""First boot, online WLST: point this slot's machine at this instance's Node Manager.

Usage: wlst.sh osb_register_machine.py --spec SPEC --machine NAME --address IP

Connects to the admin server (credentials from the secret named in the spec),
sets /Machines/<NAME>/NodeManager/<NAME> ListenAddress, and activates.
"""

import json
import subprocess
import sys


def read_admin_password(reference):
    if reference.startswith("ssm:"):
        command = ["aws", "ssm", "get-parameter", "--with-decryption", "--name", reference[4:],
                   "--query", "Parameter.Value", "--output", "text"]
    else:
        command = ["aws", "secretsmanager", "get-secret-value", "--secret-id", reference[len("secretsmanager:"):],
                   "--query", "SecretString", "--output", "text"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output, error = process.communicate()
    if process.returncode != 0:
        raise RuntimeError("reading secret %s failed: %s" % (reference, error.strip()))
    return output.rstrip("\n")


def main(argv):
    args = dict(zip(argv[0::2], argv[1::2]))
    spec = json.load(open(args["--spec"]))
    admin = spec["adminServer"]
    url = "t3://%s:%d" % (admin["listenAddress"], admin["listenPort"])
    connect(admin["adminUser"], read_admin_password(admin["adminPasswordSecret"]), url)  # noqa: F821
    try:
        edit()  # noqa: F821
        startEdit(waitTime=120000, timeout=300000, block="true")  # noqa: F821
        machine = args["--machine"]
        cd("/Machines/%s/NodeManager/%s" % (machine, machine))  # noqa: F821
        cmo.setListenAddress(args["--address"])  # noqa: F821
        save()  # noqa: F821
        activate(block="true")  # noqa: F821
    except Exception:
        cancelEdit("y")  # noqa: F821
        raise
    finally:
        disconnect()  # noqa: F821
    print("machine %s now points at %s" % (args["--machine"], args["--address"]))


if __name__ in ("__main__", "main"):
    try:
        main(sys.argv[1:])
    except Exception as error:
        print("registering the machine failed: %s" % error)
        exit(exitcode=1)  # noqa: F821
    exit(exitcode=0)  # noqa: F821
