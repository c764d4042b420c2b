from demoapp.services import load_rates


def total_rate(currency: str) -> int:
    rates = load_rates()
    return rates[currency]


def label(count: int) -> str:
    return "items: " + count


def first_rate() -> float:
    return load_rates().get("EUR")
