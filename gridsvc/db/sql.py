"""SQL kept in .sql files next to this module, loaded by name."""

from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def sql(name: str) -> TextClause:
    """The statement in sql/<name>.sql."""
    return text((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))
