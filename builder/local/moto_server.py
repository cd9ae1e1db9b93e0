"""Start moto's server with one fidelity fix that Packer needs.

moto 5.2 gives every image made by CreateImage, CopyImage or RegisterImage the root
device type "standard" (instance store). On AWS, an image created from an EBS-backed
instance has root device type "ebs", and Packer's amazon-ebs builder rejects any other
source AMI. Without this fix, a layer could not be baked from an AMI that an earlier
bake made. The default of moto's ``Ami`` constructor is changed to "ebs" before the
server starts; images defined in MOTO_AMIS_PATH still set their own value.

Run as ``python -m builder.local.moto_server -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import sys


def patch_root_device_type() -> None:
    """Make images created in the emulator EBS-backed, as they are on AWS."""
    from moto.ec2.models import amis

    defaults = list(amis.Ami.__init__.__defaults__ or ())
    names = amis.Ami.__init__.__code__.co_varnames[: amis.Ami.__init__.__code__.co_argcount]
    first_default = len(names) - len(defaults)
    index = names.index("root_device_type") - first_default
    if defaults[index] != "standard":
        raise RuntimeError(
            f"moto's Ami root_device_type default is {defaults[index]!r}; review builder/local/moto_server.py"
        )
    defaults[index] = "ebs"
    amis.Ami.__init__.__defaults__ = tuple(defaults)


def main() -> None:
    import logging

    patch_root_device_type()
    # Request lines would put presigned URLs, which are bearer credentials, into the log.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
