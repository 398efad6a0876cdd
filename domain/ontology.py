"""The topic ontology: a DAG of topics, each with the keywords that signal it.

Topics form a hierarchy in which a topic may have several parents (Bioinformatics sits under
both Biology and Data Science), so evidence about a child can be rolled up to every ancestor.
The project ships its own taxonomy (`ontology/topics.yaml`); Klout's published topic dump can be
loaded instead with `load_klout_ontology`.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ONTOLOGY_DIR = Path(__file__).parent / "ontology"
DEFAULT_ONTOLOGY = ONTOLOGY_DIR / "topics.yaml"
KLOUT_ROOT_ID = 0
KLOUT_ROOT_SLUG = "_ROOT_"

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
_NON_WORD_RE = re.compile(r"[^\w]+")
_RECORD_KEYS = {"slug", "name", "display_name", "parents", "keywords", "topic_id"}


class OntologyError(ValueError):
    """A topic or edge row that cannot be part of a valid ontology; the message names the row."""


def normalise_keyword(keyword: str) -> str:
    """Lower-case, no leading '#', single spaces: the form text tokens are matched against."""
    return " ".join(str(keyword).strip().lstrip("#").lower().split())


@dataclass(frozen=True)
class Ontology:
    """`topics`: topic_id, slug, display_name, keywords (list of str), plus any extra columns.
    `edges`: parent_slug, child_slug. Build through `from_records` or a loader, which validate."""

    topics: pd.DataFrame
    edges: pd.DataFrame

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], source: str = "topics") -> Ontology:
        """Each record: slug, display_name (or name), parents (list, optional), keywords (list,
        optional), topic_id (optional; else derived from the slug so it survives reordering)."""
        rows, edges = [], []
        for i, rec in enumerate(records, start=1):
            where = f"{source} row {i}"
            slug = rec.get("slug")
            if not isinstance(slug, str) or not _SLUG_RE.match(slug):
                raise OntologyError(f"{where}: invalid slug {slug!r} (lower-case letters, digits, '-', '_')")
            name = rec.get("display_name", rec.get("name"))
            if not isinstance(name, str) or not name.strip():
                raise OntologyError(f"{where} ({slug!r}): missing display name")
            parents = rec.get("parents") or []
            if isinstance(parents, str):
                parents = [parents]
            keywords = rec.get("keywords") or []
            if isinstance(keywords, str) or not all(isinstance(k, (str, int)) for k in keywords):
                raise OntologyError(f"{where} ({slug!r}): keywords must be a list of strings")
            topic_id = rec.get("topic_id")
            rows.append(
                {
                    "topic_id": int(topic_id) if topic_id is not None else slug_topic_id(slug),
                    "slug": slug,
                    "display_name": name.strip(),
                    "keywords": _dedupe(k for k in map(normalise_keyword, keywords) if k),
                    **{k: v for k, v in rec.items() if k not in _RECORD_KEYS},
                    "_row": where,
                }
            )
            edges.extend({"parent_slug": p, "child_slug": slug, "_row": where} for p in parents)
        columns = _dedupe(["topic_id", "slug", "display_name", "keywords", *(k for r in rows for k in r)])
        topics = pd.DataFrame(rows, columns=columns)
        edge_frame = pd.DataFrame(edges, columns=["parent_slug", "child_slug", "_row"])
        _validate(topics, edge_frame)
        return cls(
            topics=topics.drop(columns="_row").reset_index(drop=True),
            edges=edge_frame.drop(columns="_row").drop_duplicates().reset_index(drop=True),
        )

    # --- structure --------------------------------------------------------------------------
    @cached_property
    def slugs(self) -> frozenset[str]:
        return frozenset(self.topics["slug"])

    def __contains__(self, slug: object) -> bool:
        return slug in self.slugs

    def __len__(self) -> int:
        return len(self.topics)

    @cached_property
    def _parents(self) -> dict[str, tuple[str, ...]]:
        grouped = self.edges.groupby("child_slug")["parent_slug"].agg(lambda s: tuple(sorted(s)))
        return {slug: grouped.get(slug, ()) for slug in self.topics["slug"]}

    def parents(self, slug: str) -> tuple[str, ...]:
        self._require(slug)
        return self._parents[slug]

    def children(self, slug: str) -> tuple[str, ...]:
        self._require(slug)
        return tuple(sorted(self.edges.loc[self.edges["parent_slug"] == slug, "child_slug"]))

    def roots(self) -> list[str]:
        """Topics without a parent, in file order."""
        return [s for s in self.topics["slug"] if not self._parents[s]]

    @cached_property
    def _ancestor_distances(self) -> dict[str, dict[str, int]]:
        """slug -> {ancestor: fewest edges up to it}; breadth-first, so each ancestor once."""
        out = {}
        for slug in self.topics["slug"]:
            seen: dict[str, int] = {}
            queue = deque((p, 1) for p in self._parents[slug])
            while queue:
                node, depth = queue.popleft()
                if node in seen:
                    continue
                seen[node] = depth
                queue.extend((p, depth + 1) for p in self._parents[node])
            out[slug] = seen
        return out

    def ancestors(self, slug: str) -> list[str]:
        """Every ancestor through every parent, nearest first (ties by slug), each listed once."""
        self._require(slug)
        dist = self._ancestor_distances[slug]
        return sorted(dist, key=lambda a: (dist[a], a))

    def ancestor_table(self) -> pd.DataFrame:
        """slug, ancestor_slug, distance (fewest edges): one row per (topic, ancestor) pair."""
        rows = [(s, a, d) for s, anc in self._ancestor_distances.items() for a, d in anc.items()]
        return pd.DataFrame(rows, columns=["slug", "ancestor_slug", "distance"])

    def keyword_index(self) -> dict[str, tuple[str, ...]]:
        """keyword -> slugs it signals. A phrase also indexes its run-together hashtag form
        ('machine learning' -> 'machinelearning')."""
        index: dict[str, set[str]] = {}
        for slug, keywords in zip(self.topics["slug"], self.topics["keywords"]):
            for kw in keywords:
                for form in {kw, kw.replace(" ", "")}:
                    index.setdefault(form, set()).add(slug)
        return {k: tuple(sorted(v)) for k, v in index.items()}

    def _require(self, slug: str) -> None:
        if slug not in self.slugs:
            raise KeyError(f"unknown topic {slug!r}")


def slug_topic_id(slug: str) -> int:
    """A stable positive id from the slug, so ids do not change when the file is reordered."""
    return int(hashlib.sha1(slug.encode()).hexdigest()[:12], 16)


@cache
def load_default_ontology(path: Path | str = DEFAULT_ONTOLOGY) -> Ontology:
    """The project's own taxonomy (a superset of the sandbox vocabulary)."""
    path = Path(path)
    records = yaml.safe_load(path.read_text())
    if not isinstance(records, list):
        raise OntologyError(f"{path.name}: expected a list of topics")
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise OntologyError(f"{path.name} row {i}: expected a mapping, got {rec!r}")
    return Ontology.from_records(records, source=path.name)


def load_klout_ontology(topics_csv: Path | str, edges_csv: Path | str) -> Ontology:
    """Klout's public topic dump.

    topics: topicId,topicSlug,topicDisplayName,wikiItemId,freebaseMachineId
    edges:  parentTopicId,parentTopicSlug,childTopicId,childTopicSlug
    Topic 0 `_ROOT_` is the tree's root, not a topic: its children become roots. Keywords are
    the display name, its run-together hashtag form and the slug's words.
    """
    topics_csv, edges_csv = Path(topics_csv), Path(edges_csv)
    t = _read_csv(topics_csv, ["topicId", "topicSlug", "topicDisplayName"])
    e = _read_csv(edges_csv, ["parentTopicId", "parentTopicSlug", "childTopicId", "childTopicSlug"])

    records, slug_by_id = [], {}
    for line, row in zip(range(2, len(t) + 2), t.to_dict("records")):
        where = f"{topics_csv.name} line {line}"
        topic_id = _int(row["topicId"], where, "topicId")
        slug = row["topicSlug"].strip()
        if topic_id == KLOUT_ROOT_ID or slug == KLOUT_ROOT_SLUG:
            continue
        if topic_id in slug_by_id:
            raise OntologyError(f"{where}: duplicate topicId {topic_id} ({slug!r} and {slug_by_id[topic_id]!r})")
        slug_by_id[topic_id] = slug
        name = row["topicDisplayName"].strip()
        records.append(
            {
                "topic_id": topic_id,
                "slug": slug,
                "display_name": name,
                "keywords": _default_keywords(name, slug),
                "parents": [],
                "wiki_item_id": row.get("wikiItemId") or None,
                "freebase_machine_id": row.get("freebaseMachineId") or None,
            }
        )
    by_slug = {r["slug"]: r for r in records}
    for line, row in zip(range(2, len(e) + 2), e.to_dict("records")):
        where = f"{edges_csv.name} line {line}"
        parent_id = _int(row["parentTopicId"], where, "parentTopicId")
        child_id = _int(row["childTopicId"], where, "childTopicId")
        child = _resolve(child_id, row["childTopicSlug"].strip(), slug_by_id, where, "child")
        if child is None:
            raise OntologyError(f"{where}: the root {KLOUT_ROOT_SLUG} cannot be a child")
        parent = _resolve(parent_id, row["parentTopicSlug"].strip(), slug_by_id, where, "parent")
        if parent is not None and parent not in by_slug[child]["parents"]:
            by_slug[child]["parents"].append(parent)
    return Ontology.from_records(records, source=topics_csv.name)


# --- helpers -------------------------------------------------------------------------------
def _validate(topics: pd.DataFrame, edges: pd.DataFrame) -> None:
    dup = topics[topics["slug"].duplicated(keep="first")]
    if len(dup):
        r = dup.iloc[0]
        raise OntologyError(f"{r['_row']}: duplicate slug {r['slug']!r}")
    dup = topics[topics["topic_id"].duplicated(keep="first")]
    if len(dup):
        r = dup.iloc[0]
        raise OntologyError(f"{r['_row']} ({r['slug']!r}): duplicate topic_id {r['topic_id']}")
    known = set(topics["slug"])
    for parent, child, where in zip(edges["parent_slug"], edges["child_slug"], edges["_row"]):
        if parent not in known:
            raise OntologyError(f"{where} ({child!r}): unknown parent {parent!r}")
        if parent == child:
            raise OntologyError(f"{where} ({child!r}): a topic cannot be its own parent")
    cycle = _find_cycle(edges)
    if cycle:
        raise OntologyError(f"cycle in the topic hierarchy: {' -> '.join(cycle)}")


def _find_cycle(edges: pd.DataFrame) -> list[str] | None:
    """A parent -> child path that returns to its start, or None if the graph is a DAG."""
    children: dict[str, list[str]] = {}
    for p, c in zip(edges["parent_slug"], edges["child_slug"]):
        children.setdefault(p, []).append(c)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(children):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(children.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(children.get(nxt, ()))))
    return None


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise OntologyError(f"{path.name}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame


def _int(value: str, where: str, column: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise OntologyError(f"{where}: {column} {value!r} is not an integer") from None


def _resolve(topic_id: int, slug: str, slug_by_id: dict[int, str], where: str, role: str) -> str | None:
    """The slug of an edge end; None for the root. The id and slug must agree with the topics file."""
    if topic_id == KLOUT_ROOT_ID or slug == KLOUT_ROOT_SLUG:
        if topic_id != KLOUT_ROOT_ID or slug != KLOUT_ROOT_SLUG:
            raise OntologyError(
                f"{where}: {role} root must be id {KLOUT_ROOT_ID} slug {KLOUT_ROOT_SLUG}, got {topic_id} {slug!r}"
            )
        return None
    if topic_id not in slug_by_id:
        raise OntologyError(f"{where}: unknown {role} topic id {topic_id} ({slug!r})")
    if slug and slug_by_id[topic_id] != slug:
        raise OntologyError(
            f"{where}: {role} id {topic_id} is {slug_by_id[topic_id]!r} in the topics file, not {slug!r}"
        )
    return slug_by_id[topic_id]


def _default_keywords(display_name: str, slug: str) -> list[str]:
    name = normalise_keyword(_NON_WORD_RE.sub(" ", display_name))
    slug_words = normalise_keyword(_NON_WORD_RE.sub(" ", slug.replace("_", " ")))
    return _dedupe(k for k in (name, name.replace(" ", ""), slug_words) if k)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
