"""Version an op by the hash of the file that defines it (part of the example, not nbflow)."""

import hashlib


def get_hash_for_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()
