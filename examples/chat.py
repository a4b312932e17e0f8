"""A chat completion and its usage. Needs XAI_API_KEY (or XAI_BASE_URL for another server).

    python examples/chat.py "What is the Kessler syndrome?"
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, Message  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


def main() -> None:
    question = " ".join(sys.argv[1:]) or "In one sentence, what is xAI?"
    with Client() as client:
        r = client.chat.completions.create(
            model=MODEL,
            messages=[Message.system("Answer briefly."), Message.user(question)],
            max_completion_tokens=300,
        )
    message = r.choices[0].message
    print(message.content)
    if r.usage is not None:
        print("\n%d prompt + %d completion + %d reasoning tokens, $%s (request %s)" % (
            r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.reasoning_tokens,
            r.usage.cost_usd, r.request_id), file=sys.stderr)


if __name__ == "__main__":
    main()
