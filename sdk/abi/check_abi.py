#!/usr/bin/env python3
"""Checks that sdk/include/relais/plugin.h did not change without an ABI version bump.

plugin.h.sha256 records, for each ABI version MAJOR.MINOR, the SHA-256 of the header with its comments removed and
its blank space collapsed (so a comment or formatting change needs no bump). The check fails when the header's
hash differs from the one recorded for the version it declares.

  check_abi.py                 check (run by ctest as "abi: plugin.h matches its recorded hash")
  check_abi.py --record        after a bump: record the new version's hash (never rewrites an existing version)
  check_abi.py --self-test     shows that an unbumped change fails and a bumped one asks to be recorded
See docs/abi-compatibility.md.
"""
import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "include", "relais", "plugin.h")
RECORD = os.path.join(HERE, "plugin.h.sha256")


def normalized(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return " ".join(text.split())


def version_of(text):
    major = re.search(r"^#define RELAIS_ABI_MAJOR (\d+)", text, re.M)
    minor = re.search(r"^#define RELAIS_ABI_MINOR (\d+)", text, re.M)
    if not major or not minor:
        raise SystemExit("plugin.h does not define RELAIS_ABI_MAJOR and RELAIS_ABI_MINOR")
    return f"{major.group(1)}.{minor.group(1)}"


def read_record(path):
    record = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                version, digest = line.split()
                record[version] = digest
    return record


def check(header, record_path):
    """Returns (ok, message)."""
    text = open(header).read()
    version = version_of(text)
    digest = hashlib.sha256(normalized(text).encode()).hexdigest()
    recorded = read_record(record_path).get(version)
    if recorded is None:
        return False, (f"ABI {version} has no recorded hash: after bumping the version, run "
                       f"`python3 sdk/abi/check_abi.py --record` and commit sdk/abi/plugin.h.sha256")
    if recorded != digest:
        return False, (f"sdk/include/relais/plugin.h changed, but its ABI version is still {version}: bump "
                       f"RELAIS_ABI_MINOR for fields or functions appended at the end of a struct, RELAIS_ABI_MAJOR "
                       f"for anything else, then run `python3 sdk/abi/check_abi.py --record` "
                       f"(see docs/abi-compatibility.md)")
    return True, f"plugin.h matches the recorded hash of ABI {version}"


def record(header, record_path):
    text = open(header).read()
    version = version_of(text)
    digest = hashlib.sha256(normalized(text).encode()).hexdigest()
    known = read_record(record_path)
    if version in known:
        if known[version] == digest:
            return True, f"ABI {version} is already recorded"
        return False, f"ABI {version} is recorded with another hash: a released version's header cannot change; bump"
    with open(record_path, "a") as f:
        if not known:
            f.write("# ABI version and SHA-256 of sdk/include/relais/plugin.h without comments and blank space.\n"
                    "# Written by sdk/abi/check_abi.py --record; see docs/abi-compatibility.md.\n")
        f.write(f"{version} {digest}\n")
    return True, f"recorded ABI {version}"


def self_test():
    work = tempfile.mkdtemp(prefix="relais-abi-")
    try:
        header, rec = os.path.join(work, "plugin.h"), os.path.join(work, "plugin.h.sha256")
        shutil.copy(HEADER, header)
        shutil.copy(RECORD, rec)
        assert check(header, rec)[0], "the real header must pass"
        text = open(header).read()
        with open(header, "w") as f:  # a comment-only change needs no bump
            f.write(text.replace("#define RELAIS_PLUGIN_H", "#define RELAIS_PLUGIN_H\n/* a new comment */"))
        assert check(header, rec)[0], "a comment must not need a bump"
        changed = text.replace("uint32_t attempt;", "uint32_t attempt;\n    uint32_t new_field;")
        assert changed != text, "the self-test's edit did not apply"
        with open(header, "w") as f:
            f.write(changed)
        ok, message = check(header, rec)
        assert not ok and "changed, but its ABI version is still" in message, message
        minor = int(re.search(r"#define RELAIS_ABI_MINOR (\d+)", changed).group(1))
        bumped = changed.replace(f"#define RELAIS_ABI_MINOR {minor}", f"#define RELAIS_ABI_MINOR {minor + 1}")
        with open(header, "w") as f:
            f.write(bumped)
        ok, message = check(header, rec)
        assert not ok and "has no recorded hash" in message, message
        assert record(header, rec)[0]
        assert check(header, rec)[0], "a recorded bump must pass"
        return True, "self-test passed"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    ok, message = self_test() if args.self_test else record(HEADER, RECORD) if args.record else check(HEADER, RECORD)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
