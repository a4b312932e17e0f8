"""Structured outputs without pydantic: schemas from type hints, parsed replies, and errors that
name the path that failed; over chat completions and the Responses API."""

from __future__ import annotations

import enum
import json
import pickle
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Set, Tuple, Union

import pytest
from corpus import body_bytes, load, replay
from harness import completion_body, response_body

from xai_lite import InvalidArgumentError, StructuredOutputError
from xai_lite._structured import json_schema


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 1


@dataclass
class Invoice:
    """An invoice as printed."""

    number: str
    currency: Currency
    items: List[Item]
    status: Literal["draft", "sent"]
    note: Optional[str]
    totals: Dict[str, float] = field(default_factory=dict, metadata={"description": "per tax rate"})


@dataclass
class Person:
    name: str
    age: int


@dataclass
class Node:
    value: int
    children: List["Node"]


@dataclass
class Leaf:
    name: str


# Built-in generics with a string inside: list["Leaf"] is a types.GenericAlias whose argument
# stays a plain string (get_type_hints resolves it only from Python 3.11). Python 3.8 has no
# list[...], so there the same test runs with typing's List and Dict.
if sys.version_info >= (3, 9):
    @dataclass
    class Branch:
        leaves: list["Leaf"]
        by_name: dict[str, "Leaf"]
        best: Optional[list["Leaf"]]
else:
    @dataclass
    class Branch:
        leaves: List["Leaf"]
        by_name: Dict[str, "Leaf"]
        best: Optional[List["Leaf"]]


# The schema the API should get for Invoice, written out by hand.
INVOICE_SCHEMA = {
    "type": "object",
    "description": "An invoice as printed.",
    "additionalProperties": False,
    "required": ["number", "currency", "items", "status", "note", "totals"],
    "properties": {
        "number": {"type": "string"},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "items": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "price", "quantity"],
            "properties": {"name": {"type": "string"}, "price": {"type": "number"}, "quantity": {"type": "integer"}}}},
        "status": {"type": "string", "enum": ["draft", "sent"]},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "totals": {"type": "object", "additionalProperties": {"type": "number"}, "description": "per tax rate"},
    },
}
GOOD = {"number": "2026-7", "currency": "EUR", "status": "sent", "note": None, "totals": {"19%": 3.8},
        "items": [{"name": "pen", "price": 2, "quantity": 3}, {"name": "pad", "price": 12.5}]}
MESSAGES = [{"role": "user", "content": "Read the invoice"}]


def answering(content, **choice):
    body = completion_body(json.dumps(content) if not isinstance(content, str) else content)
    body["choices"][0].update(choice)
    return lambda req, reply: reply.json(body)


def test_chat_parse_sends_the_schema_and_returns_the_dataclass(serve, client_for):
    """parse() sends a strict json_schema response_format built from the hints and returns an
    Invoice with nested items, the enum member, and defaults filled in."""
    server = serve(answering(GOOD))
    r = client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Invoice, temperature=0)
    assert server.requests[0].json["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "Invoice", "schema": INVOICE_SCHEMA, "strict": True}}
    assert server.requests[0].json["temperature"] == 0
    assert r.choices[0].message.parsed == Invoice(
        "2026-7", Currency.EUR, [Item("pen", 2.0, 3), Item("pad", 12.5, 1)], "sent", None, {"19%": 3.8})
    assert "parsed" not in r.choices[0].message.to_dict()


def test_a_reply_that_does_not_match_names_the_path(serve, client_for):
    """A price sent as "12,50" raises StructuredOutputError naming items[2].price; the whole
    completion stays available on the error."""
    bad = dict(GOOD, items=GOOD["items"] + [{"name": "ink", "price": "12,50", "quantity": 1}])
    server = serve(answering(bad))
    with pytest.raises(StructuredOutputError) as info:
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Invoice)
    error = info.value
    assert 'items[2].price: expected number, got "12,50"' in str(error) and error.path == "items[2].price"
    assert error.response.choices[0].message.content == json.dumps(bad)
    copy = pickle.loads(pickle.dumps(StructuredOutputError("m", path="a.b")))
    assert copy.path == "a.b" and isinstance(copy, ValueError)


@pytest.mark.parametrize("content, message", [
    (dict(GOOD, currency="GBP"), 'currency: expected one of ["EUR", "USD"], got "GBP"'),
    (dict(GOOD, status="paid"), 'status: expected one of ["draft", "sent"]'),
    (dict(GOOD, extra=1), 'unexpected field "extra"'),
    ({k: v for k, v in GOOD.items() if k != "number"}, "number: missing"),
    (dict(GOOD, items=[{"name": "pen", "price": True}]), "items[0].price: expected number, got true"),
    (dict(GOOD, totals={"a": "x"}), 'totals.a: expected number, got "x"'),
    ([GOOD], "(root): expected object"),
])
def test_mismatches_name_the_path(serve, client_for, content, message):
    """Each kind of mismatch names where it is and what was expected."""
    server = serve(answering(content))
    with pytest.raises(StructuredOutputError) as info:
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Invoice)
    assert message in str(info.value)


def test_a_cut_off_reply_says_so(serve, client_for):
    """Invalid JSON from a reply stopped by the token limit says it was cut off."""
    server = serve(answering('{"number": "2026-', finish_reason="length"))
    with pytest.raises(StructuredOutputError, match="not valid JSON.*cut off.*max_completion_tokens"):
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Invoice)


def test_a_refusal_leaves_parsed_empty(serve, client_for):
    """A refusal is not an error: parsed stays None and the refusal is there to read."""
    body = completion_body()
    body["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    server = serve(lambda req, reply: reply.json(body))
    r = client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Invoice)
    assert r.choices[0].message.parsed is None and r.choices[0].message.refusal


def test_recorded_chat_json_schema_exchange_parses_to_a_dataclass_and_a_dict(serve, client_for):
    """The recorded schema equals the one generated for Person, and the recorded reply parses to
    a Person (and, given the schema dict, to the recorded JSON as a dict; the request then is the
    recorded one)."""
    record = load("chat_response_format_json_schema__ruby_llm_16.json")
    request = record["request"]["json"]
    assert json_schema(Person) == request["response_format"]["json_schema"]["schema"]
    content = json.loads(json.loads(body_bytes(record))["choices"][0]["message"]["content"])
    server = serve(replay(record))
    client = client_for(server)
    typed = client.chat.completions.parse(model=request["model"], messages=request["messages"], response_format=Person)
    assert typed.choices[0].message.parsed == Person(**content)
    plain = client.chat.completions.parse(model=request["model"], messages=request["messages"],
                                          response_format=request["response_format"]["json_schema"]["schema"])
    assert plain.choices[0].message.parsed == content
    assert server.requests[1].json == {k: v for k, v in request.items() if k != "stream"}


def test_recorded_responses_json_schema_exchange_parses(serve, client_for):
    """responses.parse sends the flat text.format of the recording and sets output_parsed."""
    record = load("responses_json_schema__ruby_llm_43.json")
    request = record["request"]["json"]
    server = serve(replay(record))
    r = client_for(server).responses.parse(
        model=request["model"], input=request["input"], text_format=request["text"]["format"]["schema"],
        store=False, include=request["include"])
    raw = json.loads(body_bytes(record))
    assert r.output_parsed == json.loads(raw["output"][-1]["content"][0]["text"])
    assert server.requests[0].json == {k: v for k, v in request.items() if k != "stream"}


def test_responses_parse_with_a_dataclass_and_its_failure(serve, client_for):
    """responses.parse returns an instance in output_parsed, and names the path on a mismatch."""
    replies = [response_body(json.dumps({"name": "Ada", "age": 36})), response_body(json.dumps({"name": "Ada", "age": "36"}))]
    server = serve(lambda req, reply: reply.json(replies[len(server.requests) - 1]))
    client = client_for(server)
    r = client.responses.parse(model="grok-4", input="Who?", text_format=Person, text={"verbosity": "low"})
    assert r.output_parsed == Person("Ada", 36)
    assert server.requests[0].json["text"] == {"verbosity": "low", "format": {
        "type": "json_schema", "name": "Person", "schema": json_schema(Person), "strict": True}}
    with pytest.raises(StructuredOutputError, match='age: expected integer, got "36"'):
        client.responses.parse(model="grok-4", input="Who?", text_format=Person)


def test_dict_schema_mismatch_names_the_path(serve, client_for):
    """A JSON-schema dict is enforced too: types, required fields, items and enums by path."""
    schema = {"type": "object", "required": ["tags"], "additionalProperties": False,
              "properties": {"tags": {"type": "array", "items": {"enum": ["a", "b"]}}}}
    server = serve(answering({"tags": ["a", "c"]}))
    with pytest.raises(StructuredOutputError, match=r'tags\[1\]: expected one of \["a", "b"\], got "c"'):
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=schema)


@pytest.mark.parametrize("target, match", [
    (Set[int], "cannot describe"),
    (Tuple[int, str], "Tuple\\[X, ...\\]"),
    (Dict[int, str], "keys are strings"),
    (Node, "refers to itself"),
    ("Invoice", "must be a type"),
    ({}, "empty"),
])
def test_unusable_formats_are_refused_before_any_request(serve, client_for, target, match):
    """Types that have no JSON schema are refused with InvalidArgumentError before any connection."""
    server = serve(answering(GOOD))
    with pytest.raises(InvalidArgumentError, match=match):
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=target)
    assert server.accepted == 0


def test_parse_cannot_stream_or_be_deferred(serve, client_for):
    """parse() needs the whole answer: stream=True and deferred=True are refused."""
    server = serve(answering(GOOD))
    for name in ("stream", "deferred"):
        with pytest.raises(InvalidArgumentError, match="cannot use %s=True" % name):
            client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Person, **{name: True})
    assert server.accepted == 0


def test_unions_lists_and_tuples():
    """Union members are tried in order; Tuple[X, ...] becomes a tuple; the schema says anyOf."""
    from xai_lite._structured import Mismatch, convert

    assert json_schema(Union[int, str]) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert convert("x", Union[int, str]) == "x" and convert(3.0, int) == 3
    assert convert([1, 2], Tuple[int, ...]) == (1, 2)
    with pytest.raises(Mismatch, match=r"\[1\]: expected integer or string, got \[\]"):
        convert([1, []], List[Union[int, str]])


def test_pep604_unions_follow_the_running_python():
    """`int | None` gives anyOf on Python 3.10+, and a clear InvalidArgumentError before."""
    @dataclass
    class Maybe:
        value: int | None

    if sys.version_info >= (3, 10):
        assert json_schema(Maybe)["properties"]["value"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    else:
        with pytest.raises(InvalidArgumentError, match="cannot read the type hints"):
            json_schema(Maybe)


def test_forward_references_inside_generics_resolve():
    """Strings inside list[...] and dict[str, ...] (List and Dict on Python 3.8) name the
    dataclass they refer to, for the schema and for parsing."""
    leaf = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": False}
    assert json_schema(Branch)["properties"] == {
        "leaves": {"type": "array", "items": leaf},
        "by_name": {"type": "object", "additionalProperties": leaf},
        "best": {"anyOf": [{"type": "array", "items": leaf}, {"type": "null"}]},
    }
    from xai_lite._structured import convert

    value = {"leaves": [{"name": "a"}], "by_name": {"b": {"name": "b"}}, "best": None}
    assert convert(value, Branch) == Branch([Leaf("a")], {"b": Leaf("b")}, None)


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


def test_values_are_compared_as_json():
    """const, enum, Literal and Enum compare as JSON does: 2.0 equals 2, but true is not 1."""
    from xai_lite._structured import Mismatch, check_schema, convert

    for schema, good, bad in [({"const": 1}, 1.0, True), ({"enum": [2, "x"]}, 2.0, False), ({"const": True}, True, 1),
                              ({"const": [1, {"a": 0}]}, [1.0, {"a": 0.0}], [True, {"a": False}])]:
        check_schema(good, schema, schema)
        with pytest.raises(Mismatch, match="expected"):
            check_schema(bad, schema, schema)
    assert convert(2.0, Level) is Level.HIGH and convert(2.0, Literal[1, 2]) == 2
    with pytest.raises(Mismatch, match="one of"):
        convert(True, Literal[1, 2])
    with pytest.raises(Mismatch, match="one of"):
        convert(True, Level)


def test_a_number_too_large_for_a_float_is_a_mismatch(serve, client_for):
    """A reply number beyond the float range raises StructuredOutputError naming the path, not
    OverflowError."""
    server = serve(answering('{"name": "pen", "price": 1%s, "quantity": 1}' % ("0" * 400)))
    with pytest.raises(StructuredOutputError, match="price: the number 1000.* is too large for a float") as info:
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format=Item)
    assert info.value.path == "price"
