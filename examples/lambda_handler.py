"""An AWS Lambda handler: ``{"prompt": "..."}`` in, ``{"answer": "..."}`` out.

xai_lite comes from the layer (``python -m xai_lite layer build``), the key from the function's
XAI_API_KEY environment variable (XAI_BASE_URL and XAI_MODEL are optional). Handler setting:
``lambda_handler.handler``.

The client is built once, at module level, when the runtime imports this file: warm invocations
reuse it and its keep-alive connection. Each call is bounded by the time the function has left,
so a slow answer comes back as a timeout result instead of the runtime killing the function.
"""

import os

import xai_lite

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")
# Kept back from the remaining time to build the reply and flush logs before the runtime's deadline.
RESERVE_S = 0.5

client = xai_lite.Client()


def handler(event, context):
    """Answer ``event["prompt"]`` within the invocation's remaining time."""
    prompt = event.get("prompt") if isinstance(event, dict) else None
    if not isinstance(prompt, str) or not prompt:
        return {"error": "BadRequest", "message": 'the event needs a "prompt" string'}
    budget = context.get_remaining_time_in_millis() / 1000 - RESERVE_S
    if budget <= 0:
        return {"error": "RequestTimeoutError", "message": "no time left for the call"}
    try:
        r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}],
                                           timeout=budget)
    except xai_lite.XaiError as exc:  # messages are short and never hold the key: safe to return
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"answer": r.choices[0].message.content, "model": r.model, "request_id": r.request_id}
