"""The Responses API: an answer that used xAI's server-side web search, its usage, then the same
kind of request streamed as typed events. Needs XAI_API_KEY (or XAI_BASE_URL for another server).

    python examples/responses.py "What did xAI announce this week?"
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, web_search  # noqa: E402
from xai_lite.responses import WebSearchCallItem  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


def main() -> None:
    question = " ".join(sys.argv[1:]) or "What is xAI? Cite one source."
    with Client() as client:
        r = client.responses.create(model=MODEL, input=question, tools=[web_search()], store=False)
        for item in r.output:
            if isinstance(item, WebSearchCallItem):
                print("[searched: %s]" % item.query, file=sys.stderr)
        print(r.output_text)
        if r.usage is not None:
            # output_tokens includes the reasoning tokens here (unlike chat completions).
            print("\n%s: %d in, %d out of which %d reasoning, $%s (response %s)" % (
                r.status, r.usage.input_tokens, r.usage.output_tokens, r.usage.reasoning_tokens,
                r.usage.cost_usd, r.id), file=sys.stderr)

        print("\n--- streamed ---")
        with client.responses.create(model=MODEL, input="Say hello in three languages.", stream=True) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
                elif event.type == "response.reasoning_summary_text.delta":
                    print(event.delta, end="", flush=True, file=sys.stderr)
            final = stream.get_final_response()
        print("\n[%s, %d output items]" % (final.status, len(final.output)), file=sys.stderr)


if __name__ == "__main__":
    main()
