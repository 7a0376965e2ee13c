"""Operating the connector: health checks (`connector doctor`), metrics, and the read-only
queries behind the dashboard and the admin API."""
