"""SQL kept in .sql files next to this module, loaded by name."""

from functools import cache
from pathlib import Path
from string import Template

from sqlalchemy import TextClause, text

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def sql(name: str, **parts: str) -> TextClause:
    """The statement in sql/<name>.sql, its $placeholders (if any) filled in with `parts`.

    Parts are fixed SQL written in gridsvc/db (identifiers, conditions on bound parameters), never request values.
    """
    source = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return text(Template(source).substitute(parts) if parts else source)
