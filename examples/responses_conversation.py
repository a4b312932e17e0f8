"""Two ways to continue a conversation on the Responses API. Needs XAI_API_KEY (or XAI_BASE_URL
for another server).

1. Stored: the server keeps each response (30 days); the next request names it with
   previous_response_id and sends only the new turn.
2. Stateless (store=False, nothing kept on the server): the client sends the whole history back,
   including the reasoning items, whose encrypted_content (asked for with
   include=["reasoning.encrypted_content"]) lets the model pick up its earlier reasoning.

    python examples/responses_conversation.py
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client  # noqa: E402
from xai_lite.responses import ReasoningItem  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


def stored(client: Client) -> None:
    first = client.responses.create(model=MODEL, input="My name is Ada. Please remember it.")
    second = client.responses.create(model=MODEL, input="What is my name?", previous_response_id=first.id)
    print("stored:", second.output_text)
    client.responses.delete(first.id)
    client.responses.delete(second.id)


def stateless(client: Client) -> None:
    history = [{"role": "user", "content": "Think of a number between 1 and 10, and tell me its square."}]
    options = dict(store=False, include=["reasoning.encrypted_content"])
    first = client.responses.create(model=MODEL, input=history, **options)
    encrypted = sum(1 for item in first.output if isinstance(item, ReasoningItem) and item.encrypted_content)
    print("stateless, turn 1:", first.output_text, "(%d encrypted reasoning items)" % encrypted)
    history += first.output  # reasoning and message items go back exactly as they came
    history.append({"role": "user", "content": "Which number was it?"})
    second = client.responses.create(model=MODEL, input=history, **options)
    print("stateless, turn 2:", second.output_text)


def main() -> None:
    with Client() as client:
        stored(client)
        stateless(client)


if __name__ == "__main__":
    main()
