"""A deferred chat completion: start it, do something else, fetch the result (once, within 24
hours). Needs XAI_API_KEY (or XAI_BASE_URL for another server).

    python examples/deferred.py "Write a limerick about queues."
"""

import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, RequestTimeoutError  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")


def main() -> None:
    prompt = " ".join(sys.argv[1:]) or "Write a limerick about queues."
    with Client() as client:
        handle = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], deferred=True
        )
        print("started %s; polling..." % handle.request_id, file=sys.stderr)
        try:
            completion = client.chat.deferred.wait(handle.request_id, timeout=300, interval=2.0)
        except RequestTimeoutError as exc:
            sys.exit("%s\n(run client.chat.deferred.wait(%r) later)" % (exc, handle.request_id))
    print(completion.choices[0].message.content)


if __name__ == "__main__":
    main()
