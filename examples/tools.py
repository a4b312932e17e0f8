"""Tool calling with plain Python functions: run_tools() calls the model, runs the functions it
asks for (in parallel threads), sends the results back and returns the answer; first over chat
completions, then over the Responses API. Needs XAI_API_KEY (or XAI_BASE_URL).

    python examples/tools.py
"""

import os
import sys
from typing import Literal

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # after an installed xai_lite

from xai_lite import Client, run_tools, tool  # noqa: E402

MODEL = os.environ.get("XAI_MODEL", "grok-4.3")
WEATHER = {"paris": 18, "rome": 24, "oslo": 9}


@tool
def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
    """The current temperature in a city.

    Args:
        city: The city name, e.g. "Paris".
        unit: Celsius or Fahrenheit.
    """
    celsius = WEATHER[city.lower()]  # an unknown city raises: the model is told, and can recover
    return {"city": city, "temperature": celsius if unit == "C" else celsius * 9 / 5 + 32, "unit": unit}


@tool
def convert_currency(amount: float, source: str, target: str) -> float:
    """Convert an amount of money between EUR and USD."""
    rate = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}[(source.upper(), target.upper())]
    return round(amount * rate, 2)


def main() -> None:
    with Client() as client:
        run = run_tools(
            client, model=MODEL, tools=[get_weather, convert_currency], max_turns=6,
            messages=[{"role": "user", "content": "How warm is it in Paris and Rome, and what is 50 EUR in USD?"}],
        )
        print(run.text)
        for result in run.results:
            print("  %s(%s) -> %s" % (result.name, result.arguments, result.output), file=sys.stderr)

        run = run_tools(client, model=MODEL, tools=[get_weather], input="Is it colder in Oslo than in Paris?")
        print(run.text)


if __name__ == "__main__":
    main()
