"""A conversation that keeps its history: plain turns, a streamed turn, a tool, and an image.
Needs XAI_API_KEY (or XAI_BASE_URL for another server).

    python examples/conversation.py [path/to/picture.jpg]
"""

import datetime
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, Conversation, image, tool  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


@tool
def today() -> str:
    """Today's date, as YYYY-MM-DD."""
    return datetime.date.today().isoformat()


def main() -> None:
    with Client() as client:
        chat = Conversation(client, model=MODEL, system="You are brief.", tools=[today])
        print(chat.send("Hi! What is the date today?").content)
        for piece in chat.stream("And which day of the week is that?"):
            print(piece, end="", flush=True)
        print()
        picture = sys.argv[1] if len(sys.argv) > 1 else "https://upload.wikimedia.org/wikipedia/commons/3/3a/Cat03.jpg"
        print(chat.fork().send(["What is in this picture?", image(picture)]).content)
        print("\n%d messages in the history" % len(chat.messages), file=sys.stderr)


if __name__ == "__main__":
    main()
