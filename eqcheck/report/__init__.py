"""Reports: the JSON document (the record, written atomically) and every view of it: the rich console tables,
JUnit, Markdown, HTML, the schema, `eqcheck env` (`environment`) and the self-contained repro script (`repro`).
The core never prints; everything shown is built here.

May import every lower layer (`execution`, `verdict`, `cases`, `spec`, `backends`, the package root). Never `gate`.
"""
