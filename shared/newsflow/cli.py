"""``newsflow``: the command-line front door.

Sub-commands::

    newsflow run        start the whole stack locally (embedded Redis and SecantusDB)
    newsflow push FILE  push a newsroom listing, JSON or JSONL file of items
    newsflow status     streams, groups, lag, pending, consumers and dead letters
    newsflow tag        tag JSONL items from stdin to stdout (same code as the service)
    newsflow evaluate   precision/recall/F1 of the tagger on a labelled JSONL file
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import redis as redis_sync

from newsflow.settings import ServiceSettings


def _redis(url: str | None) -> redis_sync.Redis:
    return redis_sync.Redis.from_url(url or ServiceSettings().redis_url)


def cmd_run(args: argparse.Namespace) -> int:
    from newsflow.runner import RunSettings, run

    overrides = {"replicas": args.replicas} if args.replicas is not None else {}
    return run(RunSettings(**overrides), seed=not args.no_seed)


def cmd_push(args: argparse.Namespace) -> int:
    from newsflow.publish import parse_file, print_report, push

    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"newsflow push: no such file: {path}\n")
        return 2
    try:
        result = parse_file(path, args.format)
    except UnicodeDecodeError as exc:
        sys.stderr.write(f"newsflow push: {path} is not UTF-8 text: {exc}\n")
        return 2
    total = len(result.items)
    show = sys.stderr.isatty() or total >= 1000

    def progress(done: int, of: int) -> None:
        if show:
            sys.stderr.write(f"\rpushing: {done}/{of} ({100 * done // max(of, 1)}%)")
            sys.stderr.flush()

    client = _redis(args.redis_url)
    try:
        report = push(result, client, progress=progress)
    except redis_sync.ConnectionError as exc:
        sys.stderr.write(f"\nnewsflow push: cannot reach Redis: {exc}\n")
        return 1
    finally:
        client.close()
    if show:
        sys.stderr.write("\n")
    print_report(report, sys.stdout)
    return 0 if not report.rejected else 1


def cmd_status(args: argparse.Namespace) -> int:
    from newsflow.status import collect, print_status

    client = _redis(args.redis_url)
    try:
        print_status(collect(client), sys.stdout)
    except redis_sync.ConnectionError as exc:
        sys.stderr.write(f"newsflow status: cannot reach Redis: {exc}\n")
        return 1
    finally:
        client.close()
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from newsflow.evaluation import run_tag
    from newsflow.events import utcnow
    from newsflow.tagging import Tagger
    from newsflow.taxonomy import load_taxonomy

    tagger = Tagger(load_taxonomy(Path(args.taxonomy) if args.taxonomy else None))
    return run_tag(sys.stdin, sys.stdout, sys.stderr, tagger, utcnow())


def cmd_evaluate(args: argparse.Namespace) -> int:
    from newsflow.evaluation import run_evaluate
    from newsflow.tagging import Tagger
    from newsflow.taxonomy import load_taxonomy

    tagger = Tagger(load_taxonomy(Path(args.taxonomy) if args.taxonomy else None))
    return run_evaluate(Path(args.file), tagger, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the whole stack locally")
    run.add_argument("--replicas", help="e.g. enrichment=2,storage=2 (env NEWSFLOW_REPLICAS)")
    run.add_argument("--no-seed", action="store_true", help="do not load the sample newsroom")
    run.set_defaults(func=cmd_run)

    push = sub.add_parser("push", help="push a file of items onto news:ingest")
    push.add_argument("file")
    push.add_argument("--format", choices=["auto", "newsroom", "jsonl", "json"], default="auto")
    push.add_argument("--redis-url", help="default: REDIS_URL")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
