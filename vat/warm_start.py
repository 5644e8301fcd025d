"""A started server ready before its first request (issue 14): every template compiled, every
language's catalogue and locale data loaded, so the first view of each page after a start costs
what a repeat does. Turned on by VAT_WARM_START (gunicorn.conf.py sets it); off in tests and in
`flask` commands, which need none of it."""

from __future__ import annotations

import gc

from babel import Locale
from flask import Flask
from flask_babel import force_locale, get_translations

from vat.i18n import LANGUAGES


def warm(app: Flask) -> None:
    """Compile each template into the Jinja environment's cache (the one `render_template` reads),
    and load each language's messages and Babel's data for it. Runs after the template filters
    are registered: Jinja refuses a filter it does not know when it compiles."""
    environment = app.jinja_env
    for name in environment.list_templates():
        environment.get_template(name)
    with app.test_request_context():
        for code in LANGUAGES:
            with force_locale(code):
                get_translations()
            locale = Locale.parse(code)
            _ = locale.number_symbols, locale.currency_formats, locale.decimal_formats, locale.date_formats


def settle() -> None:
    """In a worker about to serve (gunicorn's post_worker_init): collect what starting left behind,
    then move every object that remains (modules, mappers, compiled templates, catalogues: most of
    the heap, and alive until the worker ends) out of the cycle collector's walks. The collector
    stays on for everything requests allocate; without this, each of its full walks goes over the
    whole heap again, in the middle of whichever request triggers it."""
    gc.collect()
    gc.freeze()
