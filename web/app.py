"""The site (server-rendered, Jinja2, autoescaped) and the influence API (JSON, /api/v1), read-only.

Every request reads the current serving snapshot through one cursor; when the pipeline publishes a
new version the next request sees it, with no restart. Nothing here writes, and only GET is routed.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from web import labels, models, store
from web.plots import history_svg
from web.snapshot import SnapshotReader

HERE = Path(__file__).resolve().parent
API = "/api/v1"
PAGE_SIZE = 100
MAX_PAGE = 1000


class NotPublished(Exception):
    """No snapshot has been published yet (the pipeline has not run)."""


class NotFound(Exception):
    """An unknown (or hidden: same answer) person, topic or campaign."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _environment() -> Environment:
    """Autoescape on for every template, whatever its extension: names come from strangers."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(
        pts=lambda v: "" if v is None else f"{v:.2f}",
        signed=labels.signed_points,
        network=labels.network_name,
        subscore=labels.subscore_name,
        discount=labels.discount_name,
        sash=labels.sash_name,
        person_url=labels.person_path,
        topic_url=labels.topic_path,
        perk_url=labels.perk_path,
    )
    return env


def create_app(snapshot_dir: Path) -> FastAPI:
    reader = SnapshotReader(Path(snapshot_dir))
    app = FastAPI(
        title="open-klout influence API",
        version="1",
        description="Scores, subscores, topics and influence, read from the published serving snapshot.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.reader = reader
    templates = Jinja2Templates(env=_environment())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def snapshot() -> Iterator[duckdb.DuckDBPyConnection]:
        cur = reader.cursor()
        if cur is None:
            raise NotPublished()
        try:
            yield cur
        finally:
            cur.close()

    Snap = Annotated[duckdb.DuckDBPyConnection, Depends(snapshot)]

    def stamp(cur) -> dict[str, Any]:
        m = store.meta(cur)
        return {"as_of": m.as_of, "formula_version": m.formula_version, "snapshot_version": m.version}

    def page(request: Request, cur, name: str, status: int = 200, meta=None, **context) -> HTMLResponse:
        if meta is None and cur is not None:
            meta = store.meta(cur)
        return templates.TemplateResponse(request, name, {"meta": meta, **context}, status_code=status)

    sash_cache: dict[str, dict[str, list[dict]]] = {}
    sash_lock = threading.Lock()

    def sashes_of(cur, version: str, person_id: str) -> list[dict]:
        """A person's sashes from the per-version cache (filled on the version's first profile)."""
        with sash_lock:
            if version not in sash_cache:
                sash_cache.clear()
                sash_cache[version] = store.sashes_by_person(cur)
            return sash_cache[version].get(person_id, [])

    def reasons_of(cur, person_id: str) -> list[dict]:
        """Why the score changed, each move worded the same on the profile and in the API."""
        return [
            {**r, "text": labels.reason_text(r["points"], r["network"], r["subscore"])}
            for r in store.reasons(cur, person_id)
        ]

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(NotPublished)
    def not_published(request: Request, exc: NotPublished):
        detail = "Nothing published yet: run `make run` to build the first snapshot."
        if is_api(request):
            return JSONResponse({"detail": detail}, status_code=503)
        return page(request, None, "unpublished.html", status=503, directory=str(reader.directory))

    def not_found_response(request: Request, what: str):
        if is_api(request):
            return JSONResponse({"detail": f"{what} not found"}, status_code=404)
        cur = reader.cursor()
        try:
            return page(request, cur, "not_found.html", status=404, what=what)
        finally:
            if cur is not None:
                cur.close()

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound):
        return not_found_response(request, exc.what)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return not_found_response(request, "Page")
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    # ------------------------------------------------------------------ pages

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, cur: Snap, offset: Annotated[int, Query(ge=0)] = 0):
        rows = store.leaderboard(cur, PAGE_SIZE, offset)
        total = store.leaderboard_size(cur)
        return page(request, cur, "leaderboard.html", rows=rows, offset=offset, total=total, page_size=PAGE_SIZE)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, cur: Snap, q: Annotated[str, Query(max_length=200)] = ""):
        return page(request, cur, "search.html", q=q, results=store.search(cur, q))

    @app.get("/people/{person_id}", response_class=HTMLResponse, include_in_schema=False)
    def profile(request: Request, cur: Snap, person_id: str):
        who = store.person(cur, person_id)
        if who is None:
            raise NotFound("Person")
        subs = store.subscores(cur, person_id)
        nets = store.network_points(subs)
        biggest = max((abs(n["points"]) for n in nets), default=0.0) or 1.0
        hist = store.history(cur, person_id)
        meta = store.meta(cur)
        influence = store.influence_both(cur, person_id)
        plot = history_svg([(h["day"], h["score"]) for h in hist])
        return page(
            request,
            cur,
            "person.html",
            meta=meta,
            person=who,
            handles=store.handles(cur, person_id),
            plot=Markup(plot),  # built by web.plots, which escapes every text it draws
            history=hist,
            subscores=store.subscore_points(subs),
            discounts=store.discounts(cur, person_id),
            kplus_points=store.kplus_points(cur, person_id),
            kplus_label=labels.KPLUS,
            networks=[{**n, "width": round(100 * abs(n["points"]) / biggest, 1)} for n in nets],
            reasons=reasons_of(cur, person_id),
            topics=store.person_topics(cur, person_id),
            sashes=sashes_of(cur, meta.version, person_id),
            influenced_by=influence["influenced_by"],
            influences=influence["influences"],
        )

    @app.get("/topics", response_class=HTMLResponse, include_in_schema=False)
    def topics_page(request: Request, cur: Snap):
        return page(request, cur, "topics.html", topics=store.topics_index(cur))

    @app.get("/topics/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def topic_page(request: Request, cur: Snap, slug: str):
        t = store.topic(cur, slug)
        if t is None:
            raise NotFound("Topic")
        return page(
            request,
            cur,
            "topic.html",
            topic=t,
            parents=store.topic_parents(cur, slug),
            children=store.topic_children(cur, slug),
            board=store.topic_board(cur, slug),
            kplus=store.topic_kplus(cur, slug),
        )

    @app.get("/perks", response_class=HTMLResponse, include_in_schema=False)
    def perks_page(request: Request, cur: Snap):
        return page(request, cur, "perks.html", perks=store.perks(cur))

    @app.get("/perks/{campaign_id}", response_class=HTMLResponse, include_in_schema=False)
    def perk_page(request: Request, cur: Snap, campaign_id: str):
        p = store.perk(cur, campaign_id)
        if p is None:
            raise NotFound("Perk campaign")
        return page(request, cur, "perk.html", perk=p, topic_names=store.topic_names(cur, list(p["topics"])))

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request):
        from web.apidocs import describe

        cur = reader.cursor()
        try:
            return page(request, cur, "api_docs.html", api=describe(app.openapi()))
        finally:
            if cur is not None:
                cur.close()

    # ------------------------------------------------------------------ API

    not_found_doc = {404: {"model": models.Problem, "description": "Unknown, or not shown"}}
    Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many rows")]

    def person_or_404(cur, person_id: str) -> dict:
        who = store.person(cur, person_id)
        if who is None:
            raise NotFound("Person")
        return who

    def ref(row: dict) -> dict:
        """A row naming a person, plus the URL of their API resource."""
        return {**row, "url": API + labels.person_path(row["person_id"])}

    @app.get(
        f"{API}/people/{{person_id}}",
        response_model=models.Person,
        responses=not_found_doc,
        summary="A person's score, subscores and networks in points",
        tags=["people"],
    )
    def api_person(cur: Snap, person_id: str):
        """A person's score, rank, subscores and networks in points, and why the score changed."""
        who = person_or_404(cur, person_id)
        subs = store.subscores(cur, person_id)
        return models.Person(
            **stamp(cur),
            **who,
            handles=store.handles(cur, person_id),
            subscores=store.subscore_points(subs),
            discounts=[{**d, "name": labels.discount_name(d["kind"])} for d in store.discounts(cur, person_id)],
            kplus_points=store.kplus_points(cur, person_id),
            networks=store.network_points(subs),
            reasons=reasons_of(cur, person_id),
        )

    @app.get(
        f"{API}/people/{{person_id}}/history",
        response_model=models.History,
        responses=not_found_doc,
        summary="A person's score history",
        tags=["people"],
    )
    def api_history(cur: Snap, person_id: str):
        """The daily score over the history window, oldest first."""
        person_or_404(cur, person_id)
        return models.History(
            **stamp(cur),
            person_id=person_id,
            history_days=store.meta(cur).history_days,
            history=store.history(cur, person_id),
        )

    @app.get(
        f"{API}/people/{{person_id}}/topics",
        response_model=models.PersonTopics,
        responses=not_found_doc,
        summary="A person's topics",
        tags=["people"],
    )
    def api_topics(cur: Snap, person_id: str):
        """The person's topics, with expert flags and +K received in 90 days."""
        person_or_404(cur, person_id)
        return models.PersonTopics(**stamp(cur), person_id=person_id, topics=store.person_topics(cur, person_id))

    @app.get(
        f"{API}/people/{{person_id}}/influencers",
        response_model=models.Influencers,
        responses=not_found_doc,
        summary="Who influences a person",
        tags=["people"],
    )
    def api_influencers(cur: Snap, person_id: str, limit: Limit = 50):
        """Who influences this person (the snapshot's direction influenced_by), strongest first."""
        person_or_404(cur, person_id)
        rows = store.influence(cur, person_id, "influenced_by", limit)
        return models.Influencers(**stamp(cur), person_id=person_id, influencers=[ref(r) for r in rows])

    @app.get(
        f"{API}/people/{{person_id}}/influencees",
        response_model=models.Influencees,
        responses=not_found_doc,
        summary="Whom a person influences",
        tags=["people"],
    )
    def api_influencees(cur: Snap, person_id: str, limit: Limit = 50):
        """Whom this person influences (the snapshot's direction influences), strongest first."""
        person_or_404(cur, person_id)
        rows = store.influence(cur, person_id, "influences", limit)
        return models.Influencees(**stamp(cur), person_id=person_id, influencees=[ref(r) for r in rows])

    @app.get(
        f"{API}/leaderboard",
        response_model=models.Leaderboard,
        summary="The overall leaderboard",
        tags=["leaderboards"],
    )
    def api_leaderboard(cur: Snap, limit: Limit = PAGE_SIZE, offset: Annotated[int, Query(ge=0)] = 0):
        """The overall leaderboard by score, a page at a time."""
        rows = store.leaderboard(cur, limit, offset)
        return models.Leaderboard(
            **stamp(cur),
            total=store.leaderboard_size(cur),
            offset=offset,
            limit=limit,
            leaderboard=[ref(r) for r in rows],
        )

    @app.get(
        f"{API}/topics/{{slug}}/leaderboard",
        response_model=models.TopicLeaderboard,
        responses=not_found_doc,
        summary="A topic's leaderboard",
        tags=["leaderboards"],
    )
    def api_topic_leaderboard(cur: Snap, slug: str, limit: Limit = PAGE_SIZE):
        """A topic's leaderboard by topic score, with sashes, and its place in the ontology."""
        t = store.topic(cur, slug)
        if t is None:
            raise NotFound("Topic")
        return models.TopicLeaderboard(
            **stamp(cur),
            topic=t,
            parents=store.topic_parents(cur, slug),
            children=store.topic_children(cur, slug),
            leaderboard=[ref(r) for r in store.topic_board(cur, slug, limit)],
        )

    @app.get(f"{API}/search", response_model=models.Search, summary="Search people by name or handle", tags=["people"])
    def api_search(cur: Snap, q: Annotated[str, Query(max_length=200, description="Part of a name or handle")] = ""):
        """People whose name or handle contains q (case-insensitive), best ranked first."""
        return models.Search(**stamp(cur), q=q, results=[ref(r) for r in store.search(cur, q)])

    return app
