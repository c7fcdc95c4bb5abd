# SPDX-License-Identifier: Apache-2.0
"""The wire schema's Python classes, generated from proto/sendgate/v1/mail.proto.

No generated code is kept in the repository. On first import the schema is
compiled with ``protoc --python_out`` (Debian: protobuf-compiler) into a
directory keyed by the schema's SHA-256 and loaded from there:

- ``SENDGATE_PROTO_PY_DIR``: where to generate (tests point it into the build
  tree); default ``$XDG_CACHE_HOME/sendgate/python-<sha>``
  (``~/.cache/sendgate/...``).
- ``SENDGATE_PROTO_FILE``: the ``mail.proto`` to compile; default the one in
  this source tree (``proto/sendgate/v1/mail.proto``).

An installation that ships the generated ``mail_pb2.py`` in that directory
needs no protoc at run time.
"""
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_REL = Path("sendgate") / "v1" / "mail.proto"


def _proto_file() -> Path:
    env = os.environ.get("SENDGATE_PROTO_FILE")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2] / _REL


def _gen_dir(proto: Path) -> Path:
    env = os.environ.get("SENDGATE_PROTO_PY_DIR")
    if env:
        return Path(env)
    sha = hashlib.sha256(proto.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "sendgate" / f"python-{sha}"


def _generate(proto: Path, out: Path) -> Path:
    target = out / "sendgate" / "v1" / "mail_pb2.py"
    if target.exists() and target.stat().st_mtime >= proto.stat().st_mtime:
        return target
    protoc = shutil.which("protoc")
    if protoc is None:
        raise ImportError("sendgate_client: protoc not found; install Debian's "
                          "protobuf-compiler (or ship mail_pb2.py in SENDGATE_PROTO_PY_DIR)")
    root = proto.parents[2]  # the -I root, so the import path stays sendgate/v1/mail.proto
    out.mkdir(parents=True, exist_ok=True)
    # Generate into a private directory, then rename: concurrent importers
    # never see a half-written module.
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        subprocess.run([protoc, f"-I{root}", f"--python_out={tmp}", str(root / _REL)],
                       check=True, capture_output=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(tmp) / "sendgate" / "v1" / "mail_pb2.py", target)
    return target


def _load():
    proto = _proto_file()
    path = _generate(proto, _gen_dir(proto))
    spec = importlib.util.spec_from_file_location("sendgate_client._mail_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pb = _load()
