"""``newsflow dlq``: dead letters as an operator reads them.

Listing and replaying are :mod:`newsflow.runtime.deadletters`, shared with the
gateway's admin routes; this module only prints.
"""

from __future__ import annotations

from typing import TextIO

from newsflow.runtime.deadletters import Letter, Unreadable


def print_letters(letters: list[Letter | Unreadable], out: TextIO) -> None:
    if not letters:
        out.write("no dead letters\n")
        return
    for letter in letters:
        if isinstance(letter, Unreadable):
            out.write(
                f"{letter.entry_id}  NOT A DEAD LETTER: {letter.reason}\n"
                f"    entry: {letter.preview!r}\n"
            )
            continue
        e = letter.event
        out.write(
            f"{letter.entry_id}  {e.service}  {e.source_stream} entry {e.entry_id}  "
            f"deliveries {e.delivery_count}  at {e.occurred_at:%Y-%m-%d %H:%M:%S}Z\n"
            f"    error: {e.error}\n"
        )
    out.write(f"{len(letters)} dead letter(s)\n")
