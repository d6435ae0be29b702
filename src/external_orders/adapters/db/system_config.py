"""Key/value settings in ``system_config`` (the SAN6 settings live here)."""

from __future__ import annotations

import sqlalchemy as sa

from external_orders.adapters.db.schema import system_config as t
from external_orders.clock import Clock


class ConfigStore:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def all(self) -> dict[str, str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(t.c.configuration_key, t.c.configuration_value)
            )
            return {row.configuration_key: row.configuration_value for row in rows}

    def get(self, key: str) -> str | None:
        return self.all().get(key)

    def set(self, key: str, value: str) -> None:
        now = self.clock.now()
        with self.engine.begin() as connection:
            changed = connection.execute(
                t.update()
                .where(t.c.configuration_key == key)
                .values(configuration_value=value, updated_at=now)
            )
            if changed.rowcount == 0:
                connection.execute(
                    t.insert().values(
                        configuration_key=key,
                        configuration_value=value,
                        created_at=now,
                        updated_at=now,
                    )
                )

    def unset(self, key: str) -> bool:
        with self.engine.begin() as connection:
            deleted = connection.execute(t.delete().where(t.c.configuration_key == key))
        return deleted.rowcount > 0
