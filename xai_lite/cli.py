"""The command line: ``python -m xai_lite chat "prompt"`` and ``python -m xai_lite models``, and
the packaging commands ``vendor``, ``layer build`` and ``zipapp`` (in ``_ship.py``, loaded only for them).

Errors print one line on stderr and give a non-zero exit status: 2 for a usage or
configuration problem (a missing key, say), 1 for a failed call, 130 for Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, TextIO

from ._client import Client
from ._version import __version__
from .errors import InvalidArgumentError, XaiError

__all__ = ["DEFAULT_MODEL", "main"]

DEFAULT_MODEL = "grok-4.3"  # xAI's general model in the recorded 2026 exchanges; --model to change
# Commands with their own parser in _ship.py, listed here for --help.
SHIP_COMMANDS = {"vendor": "copy the package into DEST/xai_lite/ (vendor --help)",
                 "layer": "build an AWS Lambda layer zip (layer build --help)",
                 "zipapp": "build a single-file CLI (zipapp --help)"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m xai_lite",
        description="Talk to the xAI API. The key comes from XAI_API_KEY (or a secrets file).",
    )
    parser.add_argument("--version", action="version", version="xai-lite " + __version__)
    parser.add_argument("--base-url", help="API base URL (default: XAI_BASE_URL or https://api.x.ai/v1)")
    parser.add_argument("--timeout", type=float, help="seconds the whole call may take")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chat = commands.add_parser("chat", help="stream the answer to a prompt to stdout")
    chat.add_argument("prompt", help="what to ask")
    chat.add_argument("--model", default=DEFAULT_MODEL, help="model name (default: %(default)s)")
    chat.add_argument("--system", help="a system prompt")
    chat.add_argument("--reasoning", action="store_true", help="also print the reasoning trace (to stderr)")
    chat.add_argument("--usage", action="store_true", help="print token counts and cost to stderr")
    commands.add_parser("models", help="list the models this key can use")
    for name, text in SHIP_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Optional[List[str]] = None, *, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SHIP_COMMANDS:
        from . import _ship

        return _ship.main(list(argv), stdout=stdout, stderr=stderr)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(stderr)
        return 2
    if args.command in SHIP_COMMANDS:
        parser.error("%s takes none of the options before it: python -m xai_lite %s ..." % (args.command, args.command))
    try:
        kwargs = {} if args.timeout is None else {"timeout": args.timeout}
        with Client(base_url=args.base_url, **kwargs) as client:
            if args.command == "models":
                for model in client.models.list():
                    stdout.write(model.id + "\n")
                return 0
            return _chat(client, args, stdout, stderr)
    except InvalidArgumentError as exc:
        stderr.write("xai_lite: %s\n" % exc)
        return 2
    except XaiError as exc:
        stderr.write("xai_lite: %s: %s\n" % (type(exc).__name__, exc))
        return 1
    except KeyboardInterrupt:
        stderr.write("\n")
        return 130


def _chat(client: Client, args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    messages = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.prompt})
    stream = client.chat.completions.create(
        model=args.model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    usage = None
    with stream:
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if args.reasoning and delta.reasoning_content:
                stderr.write(delta.reasoning_content)
                stderr.flush()
            if delta.content:
                stdout.write(delta.content)
                stdout.flush()
    stdout.write("\n")
    if args.usage and usage is not None:
        cost = usage.cost_usd
        stderr.write(
            "tokens: %d prompt, %d completion, %d reasoning%s\n"
            % (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.reasoning_tokens,
                "; cost $%.6f" % cost if cost is not None else "",
            )
        )
    return 0
