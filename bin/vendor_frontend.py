"""Install the front end's runtime libraries (package.json `dependencies`) without Node.js.

Reads package-lock.json, downloads each runtime package's tarball from the npm registry, checks it
against the lock file's `integrity` (Subresource Integrity, sha512) and unpacks it into
var/vendor/<name>/, which settings.STATICFILES_DIRS serves as /static/vendor/<name>/. A package
already unpacked at its locked version and integrity is left alone, so a re-run needs no network.

Standard library only: `make install` runs it before anything else can be imported.
"""

import argparse
import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://registry.npmjs.org"
STAMP = ".waypoint-integrity"
TIMEOUT_S = 60


def runtime_packages(lock: dict) -> list[tuple[str, str, str]]:
    """(name, version, integrity) of each top-level package that is not a development tool."""
    found = []
    for key, entry in sorted(lock.get("packages", {}).items()):
        if not key.startswith("node_modules/") or "/node_modules/" in key[len("node_modules/") :]:
            continue  # the root project, or a nested copy a dependency carries
        if entry.get("dev") or entry.get("devOptional"):
            continue
        name = key[len("node_modules/") :]
        if not entry.get("integrity", "").startswith("sha512-"):
            raise SystemExit(f"vendor_frontend: {name} has no sha512 integrity in package-lock.json")
        found.append((name, entry["version"], entry["integrity"]))
    return found


def tarball_url(name: str, version: str, registry: str = REGISTRY) -> str:
    # A scoped package (@scope/name) keeps its scope in the path but not in the file name.
    return f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def unpack(data: bytes, target: Path) -> None:
    """Extract the tarball's `package/` folder into `target`, replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staging = Path(tmp) / "package"
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            # The "data" filter refuses absolute paths, links leaving the folder and device files.
            archive.extractall(tmp, filter="data")
        if not staging.is_dir():
            # npm packs everything under package/; a few old tarballs use another single folder.
            folders = [p for p in Path(tmp).iterdir() if p.is_dir()]
            if len(folders) != 1:
                raise SystemExit(f"vendor_frontend: unexpected layout in the tarball for {target.name}")
            staging = folders[0]
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)


def install(*, lock_path: Path, vendor_dir: Path, registry: str = REGISTRY, fetch=None) -> list[str]:
    """Install every runtime package; answers the names that were downloaded (not already there)."""
    fetch = fetch or _download
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    downloaded = []
    for name, version, integrity in runtime_packages(lock):
        target = vendor_dir / name
        stamp = target / STAMP
        if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == f"{version} {integrity}":
            continue
        url = tarball_url(name, version, registry)
        data = fetch(url)
        actual = integrity_of(data)
        if actual != integrity:
            raise SystemExit(f"vendor_frontend: {url} does not match package-lock.json ({actual} != {integrity})")
        unpack(data, target)
        stamp.write_text(f"{version} {integrity}\n", encoding="utf-8")
        downloaded.append(name)
    return downloaded


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 (https registry URL)
        return response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "package-lock.json")
    parser.add_argument("--into", type=Path, default=ROOT / "var" / "vendor")
    parser.add_argument("--registry", default=REGISTRY)
    args = parser.parse_args(argv)
    try:
        names = install(lock_path=args.lock, vendor_dir=args.into, registry=args.registry.rstrip("/"))
    except OSError as error:
        print(f"vendor_frontend: cannot download the front-end libraries ({error})", file=sys.stderr)
        return 1
    if names:
        print(f"vendor_frontend: installed {', '.join(names)} into {args.into}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
