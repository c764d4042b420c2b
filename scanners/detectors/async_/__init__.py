"""Event loop and async correctness checks (the ASYNC-* catalog categories)."""
