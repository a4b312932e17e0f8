"""Structured outputs into dataclasses, without pydantic: the JSON schema is generated from the
type hints and the answer comes back as an Invoice. Needs XAI_API_KEY (or XAI_BASE_URL).

    python examples/structured.py
"""

import enum
import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, StructuredOutputError  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")
TEXT = """ACME Corp, invoice 2026-117, in EUR. 3 pens at 2.50 each, 1 notebook at 12.00.
VAT 19% on everything. Pay within 30 days."""


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"


@dataclass
class Line:
    description: str
    quantity: int
    unit_price: float


@dataclass
class Invoice:
    """An invoice, as read from its text."""

    number: str
    seller: str
    currency: Currency
    lines: List[Line]
    payment_terms_days: Optional[int]
    taxes: Dict[str, float] = field(default_factory=dict, metadata={"description": "tax name -> rate in percent"})


def main() -> None:
    with Client() as client:
        try:
            r = client.chat.completions.parse(
                model=MODEL, messages=[{"role": "user", "content": "Extract the invoice:\n" + TEXT}],
                response_format=Invoice,
            )
        except StructuredOutputError as exc:  # names the path that failed, e.g. lines[1].unit_price
            sys.exit("the answer did not fit: %s" % exc)
        invoice = r.choices[0].message.parsed
        print(invoice)
        print("total before tax:", sum(line.quantity * line.unit_price for line in invoice.lines), invoice.currency.value)

        # The same through the Responses API (text.format), and with a plain JSON schema (a dict back).
        schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
                  "required": ["city", "population"], "additionalProperties": False}
        answer = client.responses.parse(model=MODEL, input="The largest city in Japan?", text_format=schema)
        print(answer.output_parsed)


if __name__ == "__main__":
    main()
