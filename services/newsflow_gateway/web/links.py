"""The search page's state is its URL: this turns the query string into the
:class:`~newsflow_gateway.search.params.ListQuery` the API uses, and builds the
links that change one thing about it (a filter off, the next page, a feed).

Parsing goes through ``ListQuery`` and ``single_valued``, the API's own parameter
code, so a page accepts exactly what ``/v1/items`` accepts. Only two things differ,
both because an HTML form sends them: empty fields (``q=``) count as absent, and
the API-only ``format`` is never kept. A filter value given twice is kept once,
as ``ListQuery`` does, so that no link or chip repeats it.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.datastructures import QueryParams

from newsflow_gateway.problems import ProblemError
from newsflow_gateway.search.params import LIST_FILTERS, SINGLE_VALUED, ListQuery

#: Filters a story list takes repeatedly, each with its facet kind on ``/v1/facets``.
FILTERS: Mapping[str, str] = {
    "topic": "topics",
    "office": "offices",
    "country": "countries",
    "content_type": "content_types",
}
REPEATED = LIST_FILTERS
#: Characters of a bad parameter's name echoed back in the error page.
MAX_NAME = 100
#: What the live stream and the feeds take: the search without order or paging.
MATCH_ONLY = (*REPEATED, "q", "from", "to")
#: What a page says of a parameter it does not read (pydantic's words for the search page).
EXTRA = "Extra inputs are not permitted"


@dataclass(frozen=True)
class SearchLink:
    """The current search as ordered (name, value) pairs, empty values dropped and
    a filter value repeated kept once (the first)."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, params: QueryParams) -> SearchLink:
        """Every link on a page carries every pair, and there is a chip per filter
        value: a repeated value would make the page grow with the square of the
        query. Single-valued names given twice stay twice, for :func:`list_query`
        to refuse as ``/v1/items`` does."""
        seen: set[tuple[str, str]] = set()
        pairs = []
        for pair in params.multi_items():
            name, value = pair
            if value == "" or name == "format":
                continue
            if name in REPEATED:
                if pair in seen:
                    continue
                seen.add(pair)
            pairs.append(pair)
        return cls(tuple(pairs))

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def value(self, name: str) -> str:
        found = self.values(name)
        return found[0] if found else ""

    def has(self, name: str, value: str) -> bool:
        return (name, value) in self.pairs

    def href(self, path: str = "/", pairs: Sequence[tuple[str, str]] | None = None) -> str:
        query = urlencode(list(self.pairs if pairs is None else pairs))
        return f"{path}?{query}" if query else path

    def without(self, name: str, value: str | None = None, path: str = "/") -> str:
        """This search with one filter value (or every value of ``name``) removed,
        from the first page."""
        kept = [
            (k, v)
            for k, v in self.pairs
            if k != "cursor" and not (k == name and (value is None or v == value))
        ]
        return self.href(path, kept)

    def page(self, cursor: str, path: str = "/") -> str:
        kept = [(k, v) for k, v in self.pairs if k != "cursor"]
        return self.href(path, [*kept, ("cursor", cursor)])

    def month(self, month: str, path: str = "/") -> str:
        """This search within one calendar month (``YYYY-MM``, UTC)."""
        year, number = (int(p) for p in month.split("-"))
        last = calendar.monthrange(year, number)[1]
        kept = [(k, v) for k, v in self.pairs if k not in ("cursor", "from", "to")]
        return self.href(
            path,
            [
                *kept,
                ("from", f"{month}-01T00:00:00Z"),
                ("to", f"{month}-{last:02d}T23:59:59.999Z"),
            ],
        )

    def api(self, path: str, *, keep: Sequence[str] = MATCH_ONLY, **extra: str) -> str:
        """The same search on an API endpoint (feeds, ``/v1/items``, the live stream)."""
        kept = [(k, v) for k, v in self.pairs if k in keep]
        return self.href(path, [*kept, *extra.items()])


def check_reads(link: SearchLink, reads: Collection[str] = ()) -> None:
    """A 422 :class:`ProblemError` naming each parameter a page does not read, as the
    search page refuses one ``ListQuery`` does not know: a page never ignores one."""
    unread = list(dict.fromkeys(name for name, _ in link.pairs if name not in reads))
    if unread:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "; ".join(f"{name[:MAX_NAME]}: {EXTRA}" for name in unread[:10]),
        )


def list_query(link: SearchLink) -> ListQuery:
    """The API's parameter model for this search; a 422 :class:`ProblemError` naming
    the parameter when it is not valid (the same checks as ``/v1/items``)."""
    repeated = [n for n in SINGLE_VALUED if len(link.values(n)) > 1]
    if repeated:
        raise ProblemError(
            422, "Unprocessable Content", "; ".join(f"{n}: given more than once" for n in repeated)
        )
    raw: dict[str, Any] = {}
    for name, value in link.pairs:
        if name in REPEATED:
            raw.setdefault(name, []).append(value)
        else:
            raw[name] = value
    try:
        return ListQuery.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(
            f"{str(e['loc'][0])[:MAX_NAME] if e['loc'] else 'request'}: {e['msg']}"
            for e in exc.errors()[:10]
        )
        raise ProblemError(422, "Unprocessable Content", detail) from exc
