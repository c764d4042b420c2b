import time


def load_rates() -> dict[str, float]:
    time.sleep(0.05)
    return {"EUR": 1.0}
