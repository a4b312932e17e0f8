"""What a 2xx JSON body becomes: results sent back as history keep their fields, a body that
carries an error next to the expected field raises it, and hostile bodies stay within memory
bounds (issue 7 items 9, 13 and 25)."""

from __future__ import annotations

import pytest
from harness import completion_body, scripted, tool_call_completion

from xai_lite import Conversation, run_tools, tool

MESSAGES = [{"role": "user", "content": "Weather in Paris?"}]


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return "sunny in " + city


@pytest.mark.parametrize("content", [None, "", "absent"])
def test_assistant_history_keeps_content_as_received(serve, client_for, content):
    """An assistant message sent back as history keeps ``content`` ("" or null as received, null
    when the server left it out): llama-cpp-python refuses one without it (issue 7 item 25)."""
    calls = tool_call_completion(("call_1", "weather", {"city": "Paris"}))
    message = calls["choices"][0]["message"]
    if content == "absent":
        del message["content"]
    else:
        message["content"] = content
    server = serve(scripted(calls, completion_body("Sunny.")))
    run = run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[weather])
    sent = server.requests[1].json["messages"][1]
    assert sent["role"] == "assistant" and sent["tool_calls"][0]["id"] == "call_1"
    assert "content" in sent and sent["content"] == (None if content == "absent" else content)
    assert run.messages[-1] == {"role": "assistant", "content": "Sunny."}


def test_conversation_history_keeps_empty_content(serve, client_for):
    """A reply whose content is "" is kept with its content in the conversation's history and
    sent back that way on the next turn."""
    server = serve(scripted(completion_body(""), completion_body("Again.")))
    chat = Conversation(client_for(server))
    chat.send("Hi")
    chat.send("And?")
    assert server.requests[1].json["messages"][1] == {"role": "assistant", "content": ""}
