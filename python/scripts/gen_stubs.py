#!/usr/bin/env python3
"""Generate the committed gRPC stubs in felund/_proto/ from proto/felund.proto.

    python scripts/gen_stubs.py           # regenerate in place
    python scripts/gen_stubs.py --check   # regenerate into a temp dir; exit 1 if they differ

Needs the exact grpcio-tools and mypy-protobuf pinned in requirements-dev.txt: other
versions write different (but equivalent) code, which --check would report as drift.
Generated: felund_pb2.py (messages), felund_pb2.pyi (their types, grpcio-tools'
--pyi_out), felund_pb2_grpc.py (the stub) and felund_pb2_grpc.pyi (the stub's types,
mypy-protobuf, for sync and asyncio channels).
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import shutil
import sys
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROTO = PACKAGE_DIR.parent / "proto" / "felund.proto"
OUT_SUBDIR = Path("felund") / "_proto"
GENERATED = ("felund_pb2.py", "felund_pb2.pyi", "felund_pb2_grpc.py", "felund_pb2_grpc.pyi")
PINNED = ("grpcio-tools", "mypy-protobuf")


def pins() -> dict[str, str]:
    """The exact versions requirements-dev.txt pins for the generators."""
    found = {}
    for line in (PACKAGE_DIR / "requirements-dev.txt").read_text().splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep and name in PINNED:
            found[name] = version
    return found


def check_versions() -> None:
    """Exit with a clear message unless the installed generators are the pinned ones."""
    for name, want in pins().items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = "not installed"
        if have != want:
            sys.exit(f"gen_stubs: {name} is {have}; install {name}=={want} "
                     f"(pip install -r {PACKAGE_DIR / 'requirements-dev.txt'})")


def generate(root: Path, proto: Path) -> None:
    """Write the stubs of ``proto`` under root/felund/_proto/."""
    from grpc_tools import protoc  # type: ignore[import-untyped]

    plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None:
        sys.exit("gen_stubs: protoc-gen-mypy_grpc not found beside this python (mypy-protobuf)")
    # Mapping the include path to felund/_proto makes the stub import its messages
    # as `felund._proto.felund_pb2`, so the generated code works inside the package
    # without editing it.
    rc = protoc.main([
        "grpc_tools.protoc",
        f"-I{OUT_SUBDIR.as_posix()}={proto.parent}",
        f"--plugin=protoc-gen-mypy_grpc={plugin}",
        f"--python_out={root}",
        f"--pyi_out={root}",
        f"--grpc_python_out={root}",
        f"--mypy_grpc_out={root}",
        str(proto),
    ])
    if rc != 0:
        sys.exit(f"gen_stubs: protoc failed on {proto} (exit {rc})")


def drift(fresh: Path, committed: Path) -> list[str]:
    """Unified diffs between freshly generated and committed files (empty: in sync)."""
    out: list[str] = []
    for name in GENERATED:
        new = (fresh / name).read_text().splitlines(keepends=True)
        old_path = committed / name
        old = old_path.read_text().splitlines(keepends=True) if old_path.exists() else []
        out.extend(difflib.unified_diff(old, new, f"committed/{name}", f"generated/{name}"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if the committed stubs differ from freshly generated ones")
    parser.add_argument("--proto", type=Path, default=PROTO,
                        help="the felund.proto to generate from (default: the repository's)")
    args = parser.parse_args()
    if args.proto.name != PROTO.name:
        sys.exit(f"gen_stubs: the proto file must be named {PROTO.name}")
    check_versions()
    committed = PACKAGE_DIR / OUT_SUBDIR
    if not args.check:
        generate(PACKAGE_DIR, args.proto)
        print(f"gen_stubs: wrote {', '.join(GENERATED)} to {committed}")
        return 0
    with tempfile.TemporaryDirectory(prefix="felund-stubs-") as tmp:
        generate(Path(tmp), args.proto)
        diff = drift(Path(tmp) / OUT_SUBDIR, committed)
    if diff:
        sys.stdout.writelines(diff[:400])
        print(f"\ngen_stubs: the stubs in {committed} are out of date with {args.proto}; "
              "run `python python/scripts/gen_stubs.py` and commit the result", file=sys.stderr)
        return 1
    print(f"gen_stubs: stubs in {committed} match {args.proto}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
