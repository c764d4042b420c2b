from collections.abc import Iterator

from sqlalchemy import Column, ForeignKey, Integer, Numeric, String, create_engine
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

from inventory.config import DATABASE_URL

engine = create_engine(DATABASE_URL)  # planted: DB-POOL-CONFIG
SessionLocal = sessionmaker(bind=engine, autoflush=False)
Base = declarative_base()


class Warehouse(Base):
    __tablename__ = "warehouses"

    id = Column(Integer, primary_key=True)
    code = Column(String(16), unique=True, nullable=False)
    items = relationship("Item", back_populates="warehouse")


class Item(Base):
    __tablename__ = "items"

    id = Column(Integer, primary_key=True)
    sku = Column(String(64), nullable=False)  # planted: DB-MISSING-INDEX
    name = Column(String(200), nullable=False)
    price = Column(Numeric(10, 2), nullable=False)
    quantity = Column(Integer, nullable=False, default=0)
    warehouse_id = Column(Integer, ForeignKey("warehouses.id"), index=True)
    warehouse = relationship("Warehouse", back_populates="items")


def get_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
