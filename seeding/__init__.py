"""Demo and scale data, outside the application: `flask seed-demo` (for `make run`) and
`flask seed-scale` (for the benchmarks). It writes through the application's services and the
ledger's posting engine; the application never imports it (wsgi.py adds its commands)."""
