"""``newsflow``: the command-line front door.

Sub-commands::

    newsflow run        start the whole stack locally (embedded Redis and SecantusDB)
    newsflow push FILE  push a file of items (JSON, JSONL, ninjs, RSS/Atom, NewsML-G2,
                        NITF, newsroom listing); --dry-run only checks it
    newsflow status     streams, groups, lag, pending, consumers, dead letters, search index
    newsflow tag        tag JSONL items from stdin to stdout (same code as the service)
    newsflow evaluate   precision/recall/F1 of the tagger on a labelled JSONL file
    newsflow train-topics  fit the statistical topic model on published labels
    newsflow dlq        list or replay dead letters
    newsflow reenrich   re-tag stored stories after a taxonomy change (resumable)
    newsflow keys       create, list and revoke publisher API keys
    newsflow acl        the Redis users (ACL lines) for publishers and each service
    newsflow bench      pipeline against its ceilings; search latency by corpus size

Servers: a flag (--redis-url, --mongodb-url) wins over the environment (REDIS_URL,
MONGODB_URL, or .env), which wins over the stack `newsflow run` is running
(.data/stack.json), which wins over the defaults. Each command that talks to a
server says on stderr which one, and where that setting came from.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import redis as redis_sync
from pydantic import ValidationError
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsflow_tools.settings import ToolSettings, redacted

if TYPE_CHECKING:
    from newsflow.domain.tagging import Tagger

T = TypeVar("T")
Server = Literal["redis_url", "mongodb_url"]
_LABELS: dict[Server, tuple[str, str]] = {
    "redis_url": ("Redis", "REDIS_URL"),
    "mongodb_url": ("MongoDB", "MONGODB_URL"),
}
#: What a Redis client raises when the server does not answer.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The server settings given as flags."""
    return {
        name: value
        for name in ("redis_url", "mongodb_url", "gateway_url")
        if (value := getattr(args, name, None)) is not None
    }


def _settings(args: argparse.Namespace, command: str) -> ToolSettings | None:
    """The command's settings (flags first); None, after one line, when one is invalid."""
    try:
        return ToolSettings(**_flags(args))
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "settings"
            sys.stderr.write(f"newsflow {command}: {where}: {error['msg']}\n")
        return None


def _reason(exc: BaseException) -> str:
    """The first clause of a client error, without pymongo's topology dump."""
    first = re.split(r" \(configured timeouts|, Timeout: |\n", str(exc))[0]
    return first[:300] or type(exc).__name__


def _announce(settings: ToolSettings, server: Server) -> str:
    """Say (on stderr) which server the command talks to and why; return its URL."""
    url: str = getattr(settings, server)
    sys.stderr.write(
        f"newsflow: {_LABELS[server][0]} {redacted(url)} ({settings.source_of(server)})\n"
    )
    return url


def _unreachable(settings: ToolSettings, command: str, server: Server, exc: BaseException) -> int:
    """One line saying that a server does not answer; the exit code 1."""
    label, variable = _LABELS[server]
    url = redacted(getattr(settings, server))
    if settings.origin(server) == "stack" and settings.stack is not None:
        sys.stderr.write(
            f"newsflow {command}: the stack in {settings.state_path} (newsflow run, pid "
            f"{settings.stack.pid}) does not answer: {label} {url}: {_reason(exc)}. "
            f"Is it still running? Start it, delete that file, or set {variable}.\n"
        )
    else:
        sys.stderr.write(f"newsflow {command}: cannot reach {label} at {url}: {_reason(exc)}\n")
    return 1


def _redis_failed(args: argparse.Namespace, exc: BaseException) -> int:
    """Any Redis failure a command did not handle, in one line; the exit code 1.

    A server that does not answer is "cannot reach" (see :func:`_unreachable`); one
    that answers with an error (DB index out of range, NOPERM, not Redis at all) is
    "cannot use".
    """
    command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
    settings = ToolSettings(**_flags(args))  # it was valid when the command ran
    if isinstance(exc, REDIS_DOWN) and not isinstance(exc, AuthenticationError):
        return _unreachable(settings, command, "redis_url", exc)
    url = redacted(settings.redis_url)
    sys.stderr.write(f"newsflow {command}: cannot use Redis at {url}: {_reason(exc)}\n")
    return 1


def _redis_url(settings: ToolSettings | None, command: str) -> str | None:
    """The Redis URL to use, announced; None (after one line) when the settings are
    bad or the running stack's Redis does not answer."""
    if settings is None:
        return None
    url = _announce(settings, "redis_url")
    if settings.origin("redis_url") == "stack":  # found, not given: check before using it
        client = _redis(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        except REDIS_DOWN as exc:
            _unreachable(settings, command, "redis_url", exc)
            return None
        finally:
            client.close()
    return url


def _redis(url: str, **options: Any) -> redis_sync.Redis:
    """A synchronous client, through the factory every service uses (Sentinel too)."""
    from newsflow.runtime.redis_factory import create_redis_sync

    return create_redis_sync(url, **options)


def _with_async_redis(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(client)`` on a redis.asyncio client, from synchronous code."""
    from newsflow.runtime.redis_factory import create_redis

    async def main() -> T:
        client = create_redis(url)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def cmd_run(args: argparse.Namespace) -> int:
    from newsflow_tools.runner import RunSettings, run

    overrides = {"replicas": args.replicas} if args.replicas is not None else {}
    return run(RunSettings(**overrides), seed=not args.no_seed)


def cmd_push(args: argparse.Namespace) -> int:

    from newsflow.domain.formats import NotText
    from newsflow.runtime.enqueue import ReplicaWait
    from newsflow_tools.push import dry_run, parse_file, print_report, push

    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"newsflow push: no such file: {path}\n")
        return 2
    try:
        result = parse_file(path, args.format)
    except (NotText, OSError) as exc:
        sys.stderr.write(f"newsflow push: {path}: {exc}\n")
        return 2
    if args.dry_run:
        dry_run(result, sys.stdout, sys.stderr)
        return 0
    total = len(result.items)
    show = sys.stderr.isatty() or total >= 1000

    def progress(done: int, of: int) -> None:
        if show:
            sys.stderr.write(f"\rpushing: {done}/{of} ({100 * done // max(of, 1)}%)")
            sys.stderr.flush()

    settings = _settings(args, "push")
    url = _redis_url(settings, "push")
    if settings is None or url is None:
        return 1
    wait = ReplicaWait.from_settings(settings.redis_wait_replicas, settings.redis_wait_timeout_ms)
    report = push(result, url, progress=progress, max_lag=args.max_lag, wait=wait)
    if show:
        sys.stderr.write("\n")
    print_report(report, sys.stdout, sys.stderr)
    return 0 if not report.rejected and not report.unconfirmed else 1


def cmd_status(args: argparse.Namespace) -> int:
    from newsflow_tools.status import collect, index_status, print_index_status, print_status

    settings = _settings(args, "status")
    url = _redis_url(settings, "status")
    if settings is None or url is None:
        return 1
    report = _with_async_redis(url, collect)  # a Redis failure: see main()
    print_status(report, sys.stdout)
    if settings.gateway_url:
        print_index_status(index_status(settings.gateway_url), sys.stdout)
    return 0


def _mongo(settings: ToolSettings) -> Any:
    from pymongo import MongoClient

    return MongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=settings.mongodb_timeout_ms, tz_aware=True
    )


def _mongo_failed(settings: ToolSettings, command: str, exc: BaseException) -> int:
    """One line for a MongoDB error (unreachable, refused, bad URL); exit code 1."""
    from pymongo.errors import ConnectionFailure

    if isinstance(exc, ConnectionFailure):
        return _unreachable(settings, command, "mongodb_url", exc)
    url = redacted(settings.mongodb_url)
    sys.stderr.write(f"newsflow {command}: MongoDB at {url}: {_reason(exc)}\n")
    return 1


def cmd_dlq(args: argparse.Namespace) -> int:
    from newsflow.runtime import deadletters
    from newsflow_tools.dlq import print_letters

    command = f"dlq {args.action}"
    settings = _settings(args, command)
    url = _redis_url(settings, command)
    if settings is None or url is None:
        return 1
    try:
        if args.action == "list":
            letters = _with_async_redis(
                url,
                lambda redis: deadletters.list_letters(redis, count=args.limit, after=args.after),
            )
            print_letters(letters, sys.stdout)
            return 0
        ids = None if args.all else args.ids
        if ids is not None and not ids:
            sys.stderr.write("newsflow dlq retry: give dead-letter ids, or --all\n")
            return 2
        if ids is not None:
            deadletters.check_ids(ids)
        replayed = _with_async_redis(url, lambda redis: deadletters.replay(redis, ids))
    except (ValueError, deadletters.UnreplayableError) as exc:
        sys.stderr.write(f"newsflow {command}: {exc}\n")
        return 2
    except REDIS_DOWN as exc:
        return _unreachable(settings, command, "redis_url", exc)
    sys.stdout.write(f"replayed {len(replayed)} dead letter(s)\n")
    return 0


def cmd_reenrich(args: argparse.Namespace) -> int:
    from pymongo.errors import PyMongoError

    from newsflow_tools.reenrich import reenrich

    settings = _settings(args, "reenrich")
    if settings is None:
        return 1
    # The version enrichment stamps: the taxonomy's, plus the model's when it is on
    # (the flags, else NEWSFLOW_TOPIC_MODEL as enrichment reads it).
    tagger = _tagger(args, "reenrich", settings)
    if tagger is None:
        return 2
    version = tagger.version

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\rqueued {done}/{total} stories")
        sys.stderr.flush()

    url = _redis_url(settings, "reenrich")
    if url is None:
        return 1
    _announce(settings, "mongodb_url")
    client, mongo = _redis(url), _mongo(settings)
    try:
        queued = reenrich(
            client,
            mongo,
            settings.mongodb_database,
            version,
            progress=progress,
            restart=args.restart,
        )
    except REDIS_DOWN as exc:
        return _unreachable(settings, "reenrich", "redis_url", exc)
    except PyMongoError as exc:
        return _mongo_failed(settings, "reenrich", exc)
    finally:
        client.close()
        mongo.close()
    sys.stderr.write("\n")
    sys.stdout.write(f"queued {queued} stored copies for re-enrichment with tagger {version}\n")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from pymongo.errors import PyMongoError

    from newsflow.runtime import keys

    command = f"keys {args.action}"
    settings = _settings(args, command)
    if settings is None:
        return 1
    _announce(settings, "mongodb_url")
    try:
        mongo = _mongo(settings)
    except PyMongoError as exc:  # a URL pymongo refuses
        return _mongo_failed(settings, command, exc)
    col = mongo[settings.mongodb_database][keys.API_KEYS]
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
    except PyMongoError as exc:
        return _mongo_failed(settings, command, exc)
    finally:
        mongo.close()
    return 0


def cmd_acl(args: argparse.Namespace) -> int:
    from newsflow_tools.acl import parse_passwords, render

    try:
        passwords = parse_passwords(args.password)
    except ValueError as exc:
        sys.stderr.write(f"newsflow acl: {exc}\n")
        return 2
    render(args.format, passwords, sys.stdout, sys.stderr)
    return 0


def _tagger(
    args: argparse.Namespace, command: str, settings: ToolSettings | None = None
) -> Tagger | None:
    """The tagger the --taxonomy / --topic-model flags ask for (then ``settings``'
    NEWSFLOW_TOPIC_MODEL / NEWSFLOW_TOPIC_MODEL_PATH, when given).

    None (after saying why on stderr) when a file is unreadable or invalid.
    """
    from newsflow.domain.tagging import TopicModelError, load_tagger
    from newsflow.domain.taxonomy import TaxonomyError

    path = Path(args.topic_model_path) if args.topic_model_path else None
    on = args.topic_model or path is not None
    if settings is not None and not on:
        on, path = settings.topic_model, settings.topic_model_path
    try:
        return load_tagger(Path(args.taxonomy) if args.taxonomy else None, path, model=on)
    except (TaxonomyError, TopicModelError, OSError) as exc:
        sys.stderr.write(f"newsflow {command}: {exc}\n")
        return None


def _tagger_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--taxonomy", help="taxonomy JSON (default: the packaged one)")
    parser.add_argument(
        "--topic-model",
        action="store_true",
        help="let the statistical topic model settle inferred topics (off by default, "
        "as in enrichment)",
    )
    parser.add_argument(
        "--topic-model-path",
        metavar="PATH",
        help="the topic model JSON to use (implies --topic-model; default: the packaged one)",
    )


def cmd_tag(args: argparse.Namespace) -> int:
    import io

    from newsflow.events import utcnow
    from newsflow_tools.evaluation import run_tag

    tagger = _tagger(args, "tag")
    if tagger is None:
        return 2
    if isinstance(sys.stdin, io.TextIOWrapper):
        # UTF-8 whatever the locale says, and bytes that are not UTF-8 kept as
        # surrogates, so run_tag reports the line (or the UTF-16 file) by name.
        sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape")
    return run_tag(sys.stdin, sys.stdout, sys.stderr, tagger, utcnow())


def cmd_evaluate(args: argparse.Namespace) -> int:
    from newsflow_tools.evaluation import run_evaluate

    tagger = _tagger(args, "evaluate")
    if tagger is None:
        return 2
    return run_evaluate(Path(args.file), tagger, sys.stdout)


def cmd_train_topics(args: argparse.Namespace) -> int:
    try:
        import numpy  # noqa: F401  (the trainer's one extra dependency)
    except ImportError:
        sys.stderr.write("newsflow train-topics needs numpy (the 'dev' extra: make install)\n")
        return 2
    from newsflow.domain.tagging import Tagger
    from newsflow.domain.tagging.statistical import VERSION_PATTERN
    from newsflow.domain.taxonomy import TaxonomyError, load_taxonomy
    from newsflow_tools.topic_training import TrainingError, train, write

    # Checked before a training run that takes seconds, not after it.
    problem = None
    if not 0.0 < args.precision <= 1.0:
        problem = "--precision must be in (0, 1]"
    elif not re.match(VERSION_PATTERN, args.version):
        problem = "--version may hold only letters, digits, '.' and '-' (at most 64)"
    elif not Path(args.out).resolve().parent.is_dir():
        problem = f"--out: no directory {Path(args.out).resolve().parent}"
    if problem is not None:
        sys.stderr.write(f"newsflow train-topics: {problem}\n")
        return 2
    try:
        tagger = Tagger(load_taxonomy(Path(args.taxonomy) if args.taxonomy else None))
        spec, report = train(
            tagger,
            [Path(f) for f in args.files],
            version=args.version,
            precision=args.precision,
        )
    except (TrainingError, TaxonomyError, OSError, ValueError) as exc:
        sys.stderr.write(f"newsflow train-topics: {exc}\n")
        return 2
    out = Path(args.out)
    try:
        write(spec, out)
    except OSError as exc:
        sys.stderr.write(f"newsflow train-topics: cannot write {out}: {exc.strerror or exc}\n")
        return 2
    for key, value in report.items():
        sys.stderr.write(f"{key}: {value}\n")
    sys.stderr.write(f"keep {spec.keep}, add {spec.add}; wrote {out}\n")
    if not report["target_reached"]:
        sys.stderr.write(
            f"newsflow train-topics: warning: no thresholds reach precision {args.precision} "
            f"out of fold; these are the most precise ({report['out_of_fold_precision']})\n"
        )
    return 0


def _ints(text: str) -> tuple[int, ...]:
    """``10000,100_000, 1e6`` -> (10000, 100000, 1000000)."""
    return tuple(int(float(s.replace("_", ""))) for s in text.split(",") if s.strip())


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from newsflow_tools.bench.run import PARTS, BenchOptions, render, run_bench
        from newsflow_tools.bench.search import SearchOptions
        from newsflow_tools.bench.verdict import passed
    except ImportError as exc:  # matplotlib, psutil or rich missing
        sys.stderr.write(f"newsflow bench needs the 'bench' extra (make install): {exc}\n")
        return 2
    if args.render:
        results = render(Path(args.render))
        return 0 if passed(results) else 1
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        sys.stderr.write(f"newsflow bench: --parts takes {', '.join(PARTS)}; not {unknown}\n")
        return 2
    try:
        sizes = _ints(args.sizes)
    except ValueError:
        sys.stderr.write(f"newsflow bench: --sizes must be numbers, not {args.sizes!r}\n")
        return 2
    settings = _settings(args, "bench")
    if settings is None:
        return 2
    if settings.explicit("redis_url") and not args.allow_flush:
        sys.stderr.write(
            f"newsflow bench: REDIS_URL is set ({settings.source_of('redis_url')}). The bench "
            "empties that Redis database (FLUSHDB) and runs its own services on its news:* "
            "streams; point it at a Redis nothing else uses and pass --allow-flush, or "
            "unset REDIS_URL to use an embedded one.\n"
        )
        return 2
    options = BenchOptions(
        items=args.items,
        batch_size=args.batch_size,
        storage_items=args.stage_items,
        latency_seconds=args.latency_seconds,
        runs=args.runs,
        parts=parts,
        search=SearchOptions(
            sizes=sizes,
            runs=args.runs,
            requests=args.requests,
            requests_per_client=max(1, args.requests // 4),
            cache=Path(args.corpus_cache),
        ),
        rebuild_items=args.rebuild_items,
        out=Path(args.out),
        redis_url=settings.redis_url if settings.explicit("redis_url") else None,
        mongodb_url=settings.mongodb_url if settings.explicit("mongodb_url") else None,
    )
    results = run_bench(options)
    return 0 if passed(results) else 1


SERVER_HELP = "default: the environment, else the running stack (.data/stack.json)"


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
        help="push a file (newsroom listing, JSON, JSONL, ninjs, RSS or Atom, NewsML-G2, "
        "NITF) onto news:ingest",
    )
    push.add_argument("file")
    push.add_argument(
        "--format",
        choices=["auto", "newsroom", "jsonl", "json", "ninjs", "feed", "newsml", "nitf", "xml"],
        default="auto",
        help="default: detected from the content and name (feed = RSS 2.0 or Atom; "
        "xml = feed, NewsML-G2 or NITF by the document element)",
    )
    push.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check the file without pushing: each item as a JSON line on stdout, "
        "each rejection on stderr; fails only when the file cannot be read",
    )
    push.add_argument("--redis-url", help=SERVER_HELP)
    push.add_argument(
        "--max-lag",
        type=int,
        default=10_000,
        help="wait before each batch while the ingest group lags more than this (0: never)",
    )
    push.set_defaults(func=cmd_push)

    status = sub.add_parser("status", help="streams, groups, lag, pending, dead letters")
    status.add_argument("--redis-url", help=SERVER_HELP)
    status.add_argument("--gateway-url", help="the gateway whose search index to report")
    status.set_defaults(func=cmd_status)

    tag = sub.add_parser("tag", help="tag JSONL items from stdin, write JSONL to stdout")
    _tagger_flags(tag)
    tag.set_defaults(func=cmd_tag)

    evaluate = sub.add_parser("evaluate", help="score the tagger on a labelled JSONL file")
    evaluate.add_argument("file")
    _tagger_flags(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    train_p = sub.add_parser(
        "train-topics",
        help="fit the statistical topic model on labelled JSONL files (holdout lines skipped)",
    )
    train_p.add_argument("files", nargs="+", help="labelled JSONL (the evaluation format)")
    train_p.add_argument("--out", required=True, help="where to write the model JSON")
    train_p.add_argument("--version", required=True, help="the model's version, e.g. 2026.11.29")
    train_p.add_argument(
        "--precision",
        type=float,
        default=0.90,
        help="out-of-fold precision the thresholds must reach (default 0.90)",
    )
    train_p.add_argument("--taxonomy", help="taxonomy JSON (default: the packaged one)")
    train_p.set_defaults(func=cmd_train_topics)

    dlq = sub.add_parser("dlq", help="list or replay dead letters")
    dlq_sub = dlq.add_subparsers(dest="action", required=True)
    dlq_list = dlq_sub.add_parser("list", help="show dead letters with their errors")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_list.add_argument("--after", metavar="ID", help="the next page: list after this letter")
    dlq_retry = dlq_sub.add_parser("retry", help="replay dead letters onto their source stream")
    dlq_retry.add_argument("ids", nargs="*", help="dead-letter entry ids")
    dlq_retry.add_argument("--all", action="store_true", help="replay every dead letter")
    for p in (dlq_list, dlq_retry):
        p.add_argument("--redis-url", help=SERVER_HELP)
    dlq.set_defaults(func=cmd_dlq)

    re_p = sub.add_parser("reenrich", help="re-tag stories tagged by an older taxonomy")
    _tagger_flags(re_p)  # as enrichment runs, so the versions compare
    re_p.add_argument("--restart", action="store_true", help="ignore the saved checkpoint")
    re_p.add_argument("--redis-url", help=SERVER_HELP)
    re_p.add_argument("--mongodb-url", help=SERVER_HELP)
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
        p.add_argument("--mongodb-url", help=SERVER_HELP)
    keys_p.set_defaults(func=cmd_keys)

    acl = sub.add_parser("acl", help="print the Redis ACL users a deployment needs")
    acl.add_argument(
        "--format",
        choices=["file", "commands", "template"],
        default="file",
        help="file: users.acl lines (aclfile); commands: ACL SETUSER lines; "
        "template: the file with #@USER@ for each hash (deploy/compose/init-secrets.sh)",
    )
    acl.add_argument(
        "--password",
        action="append",
        default=[],
        metavar="USER=SECRET",
        help="a user's password (repeatable); the others are generated and shown on stderr",
    )
    acl.set_defaults(func=cmd_acl)

    bench = sub.add_parser(
        "bench",
        help="measure the pipeline against the raw ceilings beneath it (embedded servers, "
        "or REDIS_URL/MONGODB_URL)",
    )
    bench.add_argument(
        "--parts",
        default="pipeline,search,rebuild",
        help="what to measure, comma-separated: pipeline (throughput, ceilings, latency, "
        "freshness), search (query latency by corpus size), rebuild (index from MongoDB)",
    )
    bench.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="search corpus sizes, comma-separated (cached under --corpus-cache)",
    )
    bench.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    bench.add_argument(
        "--requests",
        type=int,
        default=100,
        help="search requests per query and run with 1 client (8 clients: a quarter each)",
    )
    bench.add_argument(
        "--corpus-cache", default=".data/bench", help="where search corpora are kept for reuse"
    )
    bench.add_argument(
        "--rebuild-items", type=int, default=20_000, help="stories the rebuild reads from MongoDB"
    )
    bench.add_argument("--items", type=int, default=10_000, help="items per throughput run")
    bench.add_argument("--batch-size", type=int, default=100, help="the services' batch size")
    bench.add_argument(
        "--stage-items",
        type=int,
        default=2_000,
        help="items for the storage stage alone (the other stages take all items)",
    )
    bench.add_argument("--latency-seconds", type=float, default=15.0, help="per load level")
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
    except RedisError as exc:  # one line for every command, never a traceback
        return _redis_failed(args, exc)
    except OSError as exc:  # a socket error below redis-py (a port that is not Redis)
        if getattr(args, "redis_url", False) is False or args.command == "bench":
            raise
        return _redis_failed(args, exc)
    return code


if __name__ == "__main__":
    sys.exit(main())
