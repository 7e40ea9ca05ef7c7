"""Alembic environment: runs on the connection or URL handed in by gridsvc.db.migrate."""

from alembic import context

from gridsvc.db.models import Base

config = context.config
target_metadata = Base.metadata
POSTGIS_OWNED = {"spatial_ref_sys"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave PostGIS's own tables out of autogenerate."""
    return not (type_ == "table" and name in POSTGIS_OWNED)


def run() -> None:
    """Run migrations online, on the connection gridsvc passes in config.attributes."""
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, include_object=include_object)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(
        connection=connection, target_metadata=target_metadata, include_object=include_object, transactional_ddl=True
    )
    with context.begin_transaction():
        context.run_migrations()


run()
