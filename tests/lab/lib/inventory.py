#!/usr/bin/python3
"""Writes the lab inventory (lab.env and lab.json) from the local sam.ldb.

Usage: inventory.py STATE_DIR SMB_CONF ENTRY...
where ENTRY is KIND|SAM|PRINCIPAL|KEYTAB (KIND is user, computer or group;
PRINCIPAL and KEYTAB may be empty). Every LAB_* variable of the environment
is copied into both files, then the SIDs and DNs read from the directory are
added. Both files are replaced atomically so a reader never sees half of one.

Runs under the Debian python3 because Samba's bindings live there.
"""

import json
import os
import re
import shlex
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

IN_CHAIN = "1.2.840.113556.1.4.1941"
# Keys of the environment that lab.sh sets but that are not lab facts.
INTERNAL_KEYS = {"LAB_CONF", "LAB_SAM", "LAB_PYTHON"}


def env_key(sam):
    """LAB_SID_ suffix for a sAMAccountName: EXCH01$ -> EXCH01."""
    return re.sub(r"[^A-Z0-9]+", "_", sam.rstrip("$").upper()).strip("_")


def sid_of(msg):
    return str(ndr_unpack(security.dom_sid, msg["objectSid"][0]))


def find_one(db, base, sam):
    res = db.search(
        base=base,
        scope=ldb.SCOPE_SUBTREE,
        expression="(sAMAccountName=%s)" % ldb.binary_encode(sam),
        attrs=["objectSid", "memberOf", "primaryGroupID", "member"],
    )
    if len(res) != 1:
        raise SystemExit("inventory: %s not found in the directory" % sam)
    return res[0]


def group_names(db, base, dns):
    names = []
    for dn in dns:
        res = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["sAMAccountName"])
        names.append(str(res[0]["sAMAccountName"][0]))
    return sorted(names)


def transitive_groups(db, base, dn):
    res = db.search(
        base=base,
        scope=ldb.SCOPE_SUBTREE,
        expression="(&(objectClass=group)(member:%s:=%s))" % (IN_CHAIN, ldb.binary_encode(dn)),
        attrs=["sAMAccountName"],
    )
    return sorted(str(m["sAMAccountName"][0]) for m in res)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    state_dir, conf, entries = argv[1], argv[2], argv[3:]
    lp = LoadParm()
    lp.load(conf)
    db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    base = str(db.get_default_basedn())
    domain_sid = str(db.get_domain_sid())

    env = {k: v for k, v in os.environ.items() if k.startswith("LAB_") and k not in INTERNAL_KEYS}
    env["LAB_DOMAIN_SID"] = domain_sid
    env["LAB_SID_DOMAIN_USERS"] = domain_sid + "-513"
    env["LAB_SID_DOMAIN_COMPUTERS"] = domain_sid + "-515"

    accounts = []
    for entry in entries:
        kind, sam, principal, keytab = entry.split("|")
        msg = find_one(db, base, sam)
        dn = str(msg.dn)
        sid = sid_of(msg)
        env["LAB_SID_" + env_key(sam)] = sid
        record = {
            "sam": sam,
            "type": kind,
            "sid": sid,
            "dn": dn,
            "groups": group_names(db, base, [str(v) for v in msg.get("memberOf", [])]),
            "transitive_groups": transitive_groups(db, base, dn),
        }
        if "primaryGroupID" in msg:
            record["primary_group_sid"] = "%s-%s" % (domain_sid, msg["primaryGroupID"][0])
        if kind == "group":
            record["members"] = group_names(db, base, [str(v) for v in msg.get("member", [])])
        if principal:
            record["principal"] = principal
        if keytab:
            record["keytab"] = os.path.join(env.get("LAB_KEYTAB_DIR", ""), keytab)
        accounts.append(record)

    # shlex.quote leaves plain values bare, so simple KEY=VALUE parsers work
    # unless a path contains spaces or shell characters.
    env_text = "".join("%s=%s\n" % (k, shlex.quote(env[k])) for k in sorted(env))
    write_atomic(os.path.join(state_dir, "lab.env"), env_text)
    doc = {"env": dict(sorted(env.items())), "accounts": accounts}
    write_atomic(os.path.join(state_dir, "lab.json"), json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv)
