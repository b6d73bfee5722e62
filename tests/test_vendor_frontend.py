"""bin/vendor_frontend.py: runtime npm packages from the lock file, checked, unpacked, not fetched twice."""

import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("vendor_frontend", ROOT / "bin" / "vendor_frontend.py")
vendor_frontend = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vendor_frontend)


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _lock(tmp_path: Path, integrity: str) -> Path:
    lock = {
        "packages": {
            "": {"name": "waypoint-static"},
            "node_modules/eslint": {"version": "10.16.0", "integrity": "sha512-x", "dev": True},
            "node_modules/idb": {"version": "8.0.4", "integrity": integrity},
            "node_modules/idb/node_modules/nested": {"version": "1.0.0", "integrity": "sha512-y"},
        }
    }
    path = tmp_path / "package-lock.json"
    path.write_text(json.dumps(lock))
    return path


def test_installs_runtime_packages_once_and_skips_them_when_present(tmp_path):
    data = _tarball({"build/index.js": b"export const openDB = 1;\n"})
    lock = _lock(tmp_path, vendor_frontend.integrity_of(data))
    fetched = []

    def fetch(url):
        fetched.append(url)
        return data

    assert vendor_frontend.install(lock_path=lock, vendor_dir=tmp_path / "vendor", fetch=fetch) == ["idb"]
    assert fetched == ["https://registry.npmjs.org/idb/-/idb-8.0.4.tgz"]
    assert (tmp_path / "vendor/idb/build/index.js").read_bytes() == b"export const openDB = 1;\n"

    def offline(url):
        raise OSError("offline")

    # Already there at the locked version: nothing downloaded, so an offline re-run succeeds.
    assert vendor_frontend.install(lock_path=lock, vendor_dir=tmp_path / "vendor", fetch=offline) == []


def test_a_tarball_not_matching_the_lock_file_is_refused_and_nothing_is_unpacked(tmp_path):
    lock = _lock(tmp_path, vendor_frontend.integrity_of(b"the real tarball"))
    tampered = _tarball({"build/index.js": b"alert(1)"})

    with pytest.raises(SystemExit, match="does not match package-lock.json"):
        vendor_frontend.install(lock_path=lock, vendor_dir=tmp_path / "vendor", fetch=lambda url: tampered)
    assert not (tmp_path / "vendor" / "idb").exists()


def test_scoped_package_urls_keep_the_scope_in_the_path_only():
    assert vendor_frontend.tarball_url("@scope/pkg", "1.2.3") == "https://registry.npmjs.org/@scope/pkg/-/pkg-1.2.3.tgz"


def test_the_repository_lock_file_lists_exactly_the_runtime_libraries():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert [name for name, _version, _integrity in vendor_frontend.runtime_packages(lock)] == ["idb", "signature_pad"]
