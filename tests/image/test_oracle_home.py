"""Fusion Middleware Infrastructure and OSB in ORACLE_HOME, or the stand-in record."""

import pytest

STAND_IN_REASON = (
    "local stand-in: the image was baked with stand-in Oracle installers, so there are no Oracle binaries to check"
)


def test_stand_in_record_matches_mode(host, layout, stand_in_installers):
    record = host.file(layout.stand_in_record)
    if stand_in_installers:
        assert record.is_file, f"{layout.stand_in_record} is missing although the installers were stand-ins"
        assert "Oracle Service Bus" in record.content_string
    else:
        assert not record.exists, f"{layout.stand_in_record} is present in an image baked with the real installers"


def test_fmw_infrastructure_installed(host, layout, stand_in_installers):
    if stand_in_installers:
        pytest.skip(STAND_IN_REASON)
    # NOTE: the paths below are those of a 12.2.1.3 Infrastructure install. This
    # branch has not run against a real install in this repository's tests.
    for path in ("oracle_common/common/bin/wlst.sh", "wlserver/server/lib/weblogic.jar"):
        assert host.file(f"{layout.oracle_home}/{path}").is_file, f"{path} is missing from ORACLE_HOME"


def test_osb_installed(host, layout, stand_in_installers):
    if stand_in_installers:
        pytest.skip(STAND_IN_REASON)
    assert host.file(f"{layout.oracle_home}/osb").is_directory, "osb is missing from ORACLE_HOME"


def test_inventory_registers_oracle_home(host, layout, stand_in_installers):
    if stand_in_installers:
        pytest.skip(STAND_IN_REASON)
    inventory = host.file(f"{layout.oracle_inventory}/ContentsXML/inventory.xml")
    assert inventory.is_file, "the central inventory is missing"
    assert f'LOC="{layout.oracle_home}"' in inventory.content_string
