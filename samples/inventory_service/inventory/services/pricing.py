"""Prices in the customer's currency, from an external rates API."""

import requests

from inventory.config import RATES_API_KEY


def fetch_exchange_rate(currency: str) -> float:
    response = requests.get(  # planted: ASYNC-BLOCKING-HTTP (reached from async routes)
        "https://rates.example.com/latest",
        params={"base": "EUR", "symbols": currency},
        headers={"Authorization": f"Bearer {RATES_API_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return float(response.json()["rates"][currency])


def convert(amount: float, currency: str) -> float:
    if currency == "EUR":
        return amount
    return round(amount * fetch_exchange_rate(currency), 2)
