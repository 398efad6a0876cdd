"""Google+ Takeout archives as rows of the bulk-import contract (docs/contracts.md "Google+ Takeout").

Google+ closed in 2019 and has no API left; what people hold is their Takeout: a `.zip` (or its
unpacked folder) with one JSON object per post under `Takeout/Google+ Stream/Posts/*.json`. Each
post names its author and carries its +1s (`plusOnes[].plusOner`), reshares
(`reshares[].resharer`) and comments (`comments[]`, the only reactions with a time). This module
turns such an archive into interaction rows; `orchestration/imports.py` validates, gates and
lands them like any imported file. Dagster-free and DuckDB-free: a pure reader.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

NETWORK = "googleplus"
POSTS_DIR = "Posts"  # Takeout/Google+ Stream/Posts/<title>.json
MAX_PAYLOAD = 4096  # characters of a rejected file kept in the reject's payload

_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


@dataclass
class TakeoutRows:
    """An archive read: contract rows (dicts with `source_file` and `source_line` = the post's
    number in the archive), rejects as (line, reason, raw text, source_file), and a digest of
    the posts' bytes (one archive zipped or unpacked has different digests; keys do not care)."""

    source: str
    sha256: str
    posts: int = 0
    rows: list[dict] = field(default_factory=list)
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)


def is_takeout(path: Path) -> bool:
    """A folder holding `Posts/*.json` at any depth, or a zip archive holding such members."""
    if path.is_dir():
        return any(True for _ in _folder_posts(path))
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(_is_post(name) for name in archive.namelist())
    return False


def _is_post(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return len(parts) >= 2 and parts[-2] == POSTS_DIR and name.lower().endswith(".json")


def _folder_posts(path: Path) -> Iterator[Path]:
    return (p for p in path.rglob("*.json") if p.is_file() and p.parent.name == POSTS_DIR)


def _members(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(name inside the archive, source_file to report, bytes) of each post file, in name order."""
    if path.is_dir():
        for file in sorted(_folder_posts(path), key=lambda p: p.relative_to(path).as_posix()):
            yield file.relative_to(path).as_posix(), str(file), file.read_bytes()
        return
    with zipfile.ZipFile(path) as archive:
        for name in sorted(n for n in archive.namelist() if _is_post(n)):
            yield name, f"{path}!{name}", archive.read(name)


def plain_text(content: str | None) -> str | None:
    """A post's HTML content as the text topics read: line breaks kept, tags dropped, entities decoded."""
    if not content:
        return None
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content))).strip() or None


def _resource(obj, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    value = value.get("resourceName") if isinstance(value, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _text(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_takeout(path: str | Path) -> TakeoutRows:
    """Every post file of the archive as rows; a file that is not a JSON object, or a post
    without an id, a `creationTime` or an `author.resourceName`, is one reject (its file, its
    number, the reason) and the rest reads on. A +1, reshare or comment without its person (or a
    comment without its time) is a reject of its own; the post and its other reactions land."""
    path = Path(path)
    out = TakeoutRows(str(path), "")
    digest = hashlib.sha256()
    for number, (name, source, data) in enumerate(_members(path), start=1):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        out.posts += 1
        raw = data.decode("utf-8", errors="replace")
        try:
            post = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            out.rejects.append((number, f"malformed JSON: {exc}", raw[:MAX_PAYLOAD], source))
            continue
        if not isinstance(post, dict):
            out.rejects.append((number, "malformed post: not a JSON object", raw[:MAX_PAYLOAD], source))
            continue
        _read_post(post, number, source, raw, out)
    out.sha256 = digest.hexdigest()
    return out


def _read_post(post: dict, number: int, source: str, raw: str, out: TakeoutRows) -> None:
    post_id = _text(post, "activityId") or _text(post, "resourceName")
    author = _resource(post, "author")
    created = _text(post, "creationTime")
    missing = [
        key
        for key, value in (("activityId", post_id), ("creationTime", created), ("author.resourceName", author))
        if value is None
    ]
    if missing:
        out.rejects.append((number, f"missing {', '.join(missing)}", raw[:MAX_PAYLOAD], source))
        return
    base = {
        "network": NETWORK,
        "post_id": post_id,
        "author": author,
        "post_time": created,
        "text": plain_text(post.get("content") if isinstance(post.get("content"), str) else None),
        "source_file": source,
        "source_line": number,
    }
    reactions: list[dict] = []
    # +1s and reshares carry no time in the archive: reaction_time stays empty (unknown), so
    # they count on their post's day, the earliest day they can have happened
    for key, person, word in (("plusOnes", "plusOner", "plusone"), ("reshares", "resharer", "reshare")):
        for index, item in enumerate(_list(post, key)):
            reactor = _resource(item, person)
            if reactor is None:
                reason = f"{key}[{index}]: missing {person}.resourceName"
                out.rejects.append((number, reason, raw[:MAX_PAYLOAD], source))
                continue
            reactions.append({**base, "reactor": reactor, "reaction_type": word, "reaction_time": None})
    for index, comment in enumerate(_list(post, "comments")):
        reactor = _resource(comment, "author") if isinstance(comment, dict) else None
        when = _text(comment, "creationTime") if isinstance(comment, dict) else None
        if reactor is None or when is None:
            what = " and ".join(k for k, v in (("author.resourceName", reactor), ("creationTime", when)) if v is None)
            out.rejects.append((number, f"comments[{index}]: missing {what}", raw[:MAX_PAYLOAD], source))
            continue
        reactions.append({**base, "reactor": reactor, "reaction_type": "comment", "reaction_time": when})
    # a post nobody reacted to (or whose every reaction was rejected) is still a post
    out.rows += reactions or [{**base, "reactor": None, "reaction_type": None, "reaction_time": None}]


def _list(post: dict, key: str) -> list:
    value = post.get(key)
    return value if isinstance(value, list) else []
