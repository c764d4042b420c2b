import os

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://inventory@db/inventory")
WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", "https://warehouse.internal")
RATES_API_KEY = "rk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"  # planted: SEC-HARDCODED-SECRET
REPORTS_DIR = os.environ.get("REPORTS_DIR", "/var/lib/inventory/reports")
