"""PostGIS, with new connections (or checkouts from the pool) behind the database
circuit breaker (config/breakers.py): while PostgreSQL is known to be down a request
fails at once instead of waiting DB_POOL_TIMEOUT for a connection."""

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

from config.breakers import guard_database


class DatabaseWrapper(PostGISDatabaseWrapper):
    def get_new_connection(self, conn_params):
        return guard_database(lambda: super(DatabaseWrapper, self).get_new_connection(conn_params))
