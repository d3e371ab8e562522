"""``newsflow``: the command-line front door.

Sub-commands::

    newsflow run        start the whole stack locally (embedded Redis and SecantusDB)
    newsflow push FILE  push a newsroom listing, JSON or JSONL file of items
    newsflow status     streams, groups, lag, pending, consumers and dead letters
    newsflow tag        tag JSONL items from stdin to stdout (same code as the service)
    newsflow evaluate   precision/recall/F1 of the tagger on a labelled JSONL file
    newsflow dlq        list or replay dead letters
    newsflow reenrich   re-tag stored stories after a taxonomy change (resumable)
    newsflow keys       create, list and revoke publisher API keys
    newsflow bench      throughput, latency and ceilings of the whole pipeline

Connections come from REDIS_URL and MONGODB_URL (or --redis-url / --mongodb-url).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis as redis_sync

from newsflow.settings import ServiceSettings


def _redis(url: str | None) -> redis_sync.Redis:
    return redis_sync.Redis.from_url(url or ServiceSettings().redis_url)


def cmd_run(args: argparse.Namespace) -> int:
    from newsflow_tools.runner import RunSettings, run

    overrides = {"replicas": args.replicas} if args.replicas is not None else {}
    return run(RunSettings(**overrides), seed=not args.no_seed)


def cmd_push(args: argparse.Namespace) -> int:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from newsflow.domain.formats import NotText
    from newsflow_tools.push import parse_file, print_report, push

    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"newsflow push: no such file: {path}\n")
        return 2
    try:
        result = parse_file(path, args.format)
    except NotText as exc:
        sys.stderr.write(f"newsflow push: {path}: {exc}\n")
        return 2
    total = len(result.items)
    show = sys.stderr.isatty() or total >= 1000

    def progress(done: int, of: int) -> None:
        if show:
            sys.stderr.write(f"\rpushing: {done}/{of} ({100 * done // max(of, 1)}%)")
            sys.stderr.flush()

    redis_url = args.redis_url or ServiceSettings().redis_url
    try:
        report = push(result, redis_url, progress=progress, max_lag=args.max_lag)
    except RedisConnectionError as exc:
        sys.stderr.write(f"\nnewsflow push: cannot reach Redis: {exc}\n")
        return 1
    if show:
        sys.stderr.write("\n")
    print_report(report, sys.stdout)
    return 0 if not report.rejected else 1


def cmd_status(args: argparse.Namespace) -> int:
    from newsflow_tools.status import collect, print_status

    client = _redis(args.redis_url)
    try:
        print_status(collect(client), sys.stdout)
    except redis_sync.ConnectionError as exc:
        sys.stderr.write(f"newsflow status: cannot reach Redis: {exc}\n")
        return 1
    finally:
        client.close()
    return 0


def _mongo(url: str | None) -> Any:
    from pymongo import MongoClient

    return MongoClient(
        url or ServiceSettings().mongodb_url, serverSelectionTimeoutMS=5000, tz_aware=True
    )


def cmd_dlq(args: argparse.Namespace) -> int:
    from newsflow.runtime import deadletters as dlq

    client = _redis(args.redis_url)
    try:
        if args.action == "list":
            dlq.print_letters(dlq.list_letters(client, count=args.limit), sys.stdout)
        else:
            ids = None if args.all else args.ids
            if ids is not None and not ids:
                sys.stderr.write("newsflow dlq retry: give dead-letter ids, or --all\n")
                return 2
            replayed = dlq.retry(client, ids)
            sys.stdout.write(f"replayed {len(replayed)} dead letter(s)\n")
    except redis_sync.ConnectionError as exc:
        sys.stderr.write(f"newsflow dlq: cannot reach Redis: {exc}\n")
        return 1
    finally:
        client.close()
    return 0


def cmd_reenrich(args: argparse.Namespace) -> int:
    from newsflow.domain.taxonomy import load_taxonomy
    from newsflow_tools.reenrich import reenrich

    version = load_taxonomy(Path(args.taxonomy) if args.taxonomy else None).version

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\rqueued {done}/{total} stories")
        sys.stderr.flush()

    client, mongo = _redis(args.redis_url), _mongo(args.mongodb_url)
    try:
        queued = reenrich(
            client,
            mongo,
            ServiceSettings().mongodb_database,
            version,
            progress=progress,
            restart=args.restart,
        )
    finally:
        client.close()
        mongo.close()
    sys.stderr.write("\n")
    sys.stdout.write(f"queued {queued} stored copies for re-enrichment with taxonomy {version}\n")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from newsflow.runtime import keys

    mongo = _mongo(args.mongodb_url)
    col = mongo[ServiceSettings().mongodb_database][keys.API_KEYS]
    try:
        if args.action == "create":
            try:
                key = keys.create(col, args.publisher, args.scopes.split(","))
            except ValueError as exc:
                sys.stderr.write(f"newsflow keys create: {exc}\n")
                return 2
            sys.stdout.write(f"{key}\n")
            sys.stderr.write("Store this key now: it is shown only once.\n")
        elif args.action == "list":
            for doc in keys.list_keys(col):
                state = "revoked" if doc.get("revoked_at") else "active"
                sys.stdout.write(
                    f"{doc['_id']}  {doc['publisher']}  {','.join(doc['scopes'])}  "
                    f"{state}  created {doc['created_at']:%Y-%m-%d}\n"
                )
        else:
            if not keys.revoke(col, args.key_id):
                sys.stderr.write(f"newsflow keys revoke: no active key {args.key_id}\n")
                return 1
            sys.stdout.write(f"revoked {args.key_id}\n")
    finally:
        mongo.close()
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from newsflow.domain.tagging import Tagger
    from newsflow.domain.taxonomy import load_taxonomy
    from newsflow.events import utcnow
    from newsflow_tools.evaluation import run_tag

    tagger = Tagger(load_taxonomy(Path(args.taxonomy) if args.taxonomy else None))
    return run_tag(sys.stdin, sys.stdout, sys.stderr, tagger, utcnow())


def cmd_evaluate(args: argparse.Namespace) -> int:
    from newsflow.domain.tagging import Tagger
    from newsflow.domain.taxonomy import load_taxonomy
    from newsflow_tools.evaluation import run_evaluate

    tagger = Tagger(load_taxonomy(Path(args.taxonomy) if args.taxonomy else None))
    return run_evaluate(Path(args.file), tagger, sys.stdout)


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from newsflow_tools.bench.run import BenchOptions, render, run_bench
    except ImportError as exc:  # matplotlib, psutil or rich missing
        sys.stderr.write(f"newsflow bench needs the 'bench' extra (make install): {exc}\n")
        return 2
    if args.render:
        results = render(Path(args.render))
        return 0 if all(t["met"] for t in results["targets"]) else 1
    if "REDIS_URL" in os.environ and not args.allow_flush:
        sys.stderr.write(
            "newsflow bench: REDIS_URL is set. The bench empties that Redis database "
            "(FLUSHDB) and runs its own services on its news:* streams; point it at a "
            "Redis nothing else uses and pass --allow-flush, or unset REDIS_URL to use "
            "an embedded one.\n"
        )
        return 2
    settings = ServiceSettings()
    options = BenchOptions(
        items=args.items,
        batch_size=args.batch_size,
        storage_items=args.stage_items,
        latency_seconds=args.latency_seconds,
        gateway_sizes=tuple(int(s) for s in args.gateway_sizes.split(",") if s.strip()),
        out=Path(args.out),
        redis_url=settings.redis_url if "REDIS_URL" in os.environ else None,
        mongodb_url=settings.mongodb_url if "MONGODB_URL" in os.environ else None,
    )
    results = run_bench(options)
    return 0 if all(t["met"] for t in results["targets"]) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the whole stack locally")
    run.add_argument("--replicas", help="e.g. enrichment=2,storage=2 (env NEWSFLOW_REPLICAS)")
    run.add_argument("--no-seed", action="store_true", help="do not load the sample newsroom")
    run.set_defaults(func=cmd_run)

    push = sub.add_parser(
        "push",
        help="push a file (newsroom listing, JSON, JSONL, ninjs, RSS or Atom) onto news:ingest",
    )
    push.add_argument("file")
    push.add_argument(
        "--format",
        choices=["auto", "newsroom", "jsonl", "json", "ninjs", "feed"],
        default="auto",
        help="default: detected from the name and content (feed = RSS 2.0 or Atom)",
    )
    push.add_argument("--redis-url", help="default: REDIS_URL")
    push.add_argument(
        "--max-lag",
        type=int,
        default=10_000,
        help="wait before each batch while the ingest group lags more than this (0: never)",
    )
    push.set_defaults(func=cmd_push)

    status = sub.add_parser("status", help="streams, groups, lag, pending, dead letters")
    status.add_argument("--redis-url", help="default: REDIS_URL")
    status.set_defaults(func=cmd_status)

    tag = sub.add_parser("tag", help="tag JSONL items from stdin, write JSONL to stdout")
    tag.add_argument("--taxonomy", help="taxonomy JSON (default: the packaged one)")
    tag.set_defaults(func=cmd_tag)

    evaluate = sub.add_parser("evaluate", help="score the tagger on a labelled JSONL file")
    evaluate.add_argument("file")
    evaluate.add_argument("--taxonomy", help="taxonomy JSON (default: the packaged one)")
    evaluate.set_defaults(func=cmd_evaluate)

    dlq = sub.add_parser("dlq", help="list or replay dead letters")
    dlq_sub = dlq.add_subparsers(dest="action", required=True)
    dlq_list = dlq_sub.add_parser("list", help="show dead letters with their errors")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_retry = dlq_sub.add_parser("retry", help="replay dead letters onto their source stream")
    dlq_retry.add_argument("ids", nargs="*", help="dead-letter entry ids")
    dlq_retry.add_argument("--all", action="store_true", help="replay every dead letter")
    for p in (dlq_list, dlq_retry):
        p.add_argument("--redis-url", help="default: REDIS_URL")
    dlq.set_defaults(func=cmd_dlq)

    re_p = sub.add_parser("reenrich", help="re-tag stories tagged by an older taxonomy")
    re_p.add_argument("--taxonomy", help="taxonomy JSON (default: the packaged one)")
    re_p.add_argument("--restart", action="store_true", help="ignore the saved checkpoint")
    re_p.add_argument("--redis-url", help="default: REDIS_URL")
    re_p.add_argument("--mongodb-url", help="default: MONGODB_URL")
    re_p.set_defaults(func=cmd_reenrich)

    keys_p = sub.add_parser("keys", help="publisher API keys")
    keys_sub = keys_p.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument("publisher", help="publisher name, recorded as items' source")
    create.add_argument("--scopes", default="publish", help="comma-separated: publish,read,admin")
    keys_list = keys_sub.add_parser("list", help="list keys (never the secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    for p in (create, keys_list, revoke):
        p.add_argument("--mongodb-url", help="default: MONGODB_URL")
    keys_p.set_defaults(func=cmd_keys)

    bench = sub.add_parser(
        "bench",
        help="measure the pipeline against the raw ceilings beneath it (embedded servers, "
        "or REDIS_URL/MONGODB_URL)",
    )
    bench.add_argument("--items", type=int, default=20_000, help="items per throughput run")
    bench.add_argument("--batch-size", type=int, default=100, help="the services' batch size")
    bench.add_argument(
        "--stage-items",
        type=int,
        default=2_000,
        help="items for the storage stage alone (the other stages take all items)",
    )
    bench.add_argument("--latency-seconds", type=float, default=15.0, help="per load level")
    bench.add_argument("--gateway-sizes", default="1000,10000", help="stories, comma-separated")
    bench.add_argument("--out", default="bench-results", help="where latest.json/png go")
    bench.add_argument(
        "--allow-flush",
        action="store_true",
        help="with REDIS_URL: allow the bench to empty that Redis database",
    )
    bench.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: judge and print a saved latest.json again, redraw its PNG",
    )
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except BrokenPipeError:  # `newsflow evaluate ... | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
