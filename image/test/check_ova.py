#!/usr/bin/env python3
"""Checks the OVA: member order (OVF, disk, manifest), manifest checksums, and that the OVF
declares 2 vCPU, 1024 MB memory, a 64 GiB stream-optimized disk and EFI firmware.
Usage: check_ova.py OVA EXTRACT_DIR  (prints one line per check, exits 1 on a failure)"""
import hashlib
import os
import sys
import tarfile
import xml.etree.ElementTree as ET

NS = {
    "ovf": "http://schemas.dmtf.org/ovf/envelope/1",
    "rasd": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData",
    "vmw": "http://www.vmware.com/schema/ovf",
}
failures = 0


def check(ok: bool, what: str) -> None:
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


def main() -> int:
    ova, out = sys.argv[1], sys.argv[2]
    with tarfile.open(ova) as tar:
        names = tar.getnames()
        tar.extractall(out, filter="data")
    check(len(names) == 3 and names[0].endswith(".ovf") and names[1].endswith(".vmdk")
          and names[2].endswith(".mf"), f"OVA members in order ovf, vmdk, mf: {names}")
    for line in open(os.path.join(out, names[2]), encoding="utf-8"):
        left, digest = line.strip().split("= ")
        name = left[len("SHA256("):-1]
        actual = hashlib.sha256(open(os.path.join(out, name), "rb").read()).hexdigest()
        check(actual == digest, f"manifest SHA256 of {name}")
    root = ET.parse(os.path.join(out, names[0])).getroot()
    items = root.findall(".//ovf:VirtualHardwareSection/ovf:Item", NS)

    def quantity(resource_type: str) -> str:
        for item in items:
            if item.findtext("rasd:ResourceType", namespaces=NS) == resource_type:
                return item.findtext("rasd:VirtualQuantity", namespaces=NS) or ""
        return ""

    check(quantity("3") == "2", "OVF: 2 virtual CPUs")
    check(quantity("4") == "1024", "OVF: 1024 MB memory")
    disk = root.find(".//ovf:DiskSection/ovf:Disk", NS)
    attr = lambda name: disk.get(f"{{{NS['ovf']}}}{name}") if disk is not None else None
    check(attr("capacity") == "64" and attr("capacityAllocationUnits") == "byte * 2^30",
          "OVF: 64 GiB disk")
    check("streamOptimized" in (attr("format") or ""), "OVF: stream-optimized VMDK")
    firmware = [c.get(f"{{{NS['vmw']}}}value") for c in root.iter(f"{{{NS['vmw']}}}Config")
                if c.get(f"{{{NS['vmw']}}}key") == "firmware"]
    check(firmware == ["efi"], "OVF: EFI firmware")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
