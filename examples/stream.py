"""Stream an answer as it is written, then show the assembled completion. Needs XAI_API_KEY
(or XAI_BASE_URL for another server).

    python examples/stream.py "Write a haiku about TCP keep-alive."
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import ChatCompletionAccumulator, Client, StreamingError  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


def main() -> None:
    prompt = " ".join(sys.argv[1:]) or "Write a haiku about TCP keep-alive."
    accumulator = ChatCompletionAccumulator()
    with Client() as client:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True,
            stream_options={"include_usage": True},
        )
        try:
            with stream:
                for chunk in stream:
                    accumulator.add(chunk)
                    if chunk.choices and chunk.choices[0].delta.content:
                        print(chunk.choices[0].delta.content, end="", flush=True)
        except StreamingError as exc:  # the stream was cut: what arrived is still in the accumulator
            print("\n[stream cut after %s chunks: %s]" % (exc.chunks_delivered, exc), file=sys.stderr)
    final = accumulator.completion()
    print("\n\nfinish reason:", final.choices[0].finish_reason if final.choices else None)
    if final.usage is not None:
        print("tokens:", final.usage.total_tokens, "cost: $%s" % final.usage.cost_usd)


if __name__ == "__main__":
    main()
