"""The application log, and where it goes (ASVS 16.4.3: logs sent to a separate system).

By default Flask's handler writes text to stderr, which gunicorn and systemd keep with the app.
With VAT_LOG_FORMAT=json every record of the app's loggers (`vat`, the jobs' worker, the ledger)
is one JSON object per line on stdout — time (UTC), level, logger, message, and the exception's
type and traceback — for journald, a container runtime or a log shipper to forward. With
VAT_LOG_SYSLOG (a socket path such as /dev/log, or host:port over UDP) the same objects also go
to syslog, so a copy leaves the machine when rsyslog forwards them. What is logged is what the
app logs already: method, endpoint, account id, type names — never an identity, a query string
or a secret (tests/security/test_logs.py).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from gunicorn.glogging import Logger as GunicornLogger

FORMATS = ("text", "json")
# The loggers the app writes to (gunicorn's own and its access log: `GunicornJsonLogger`).
APP_LOGGERS = ("vat", "ledger", "huey")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "app": "vat-ledger",
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def syslog_address(value: str) -> str | tuple[str, int]:
    """A socket path (/dev/log) as it is; host:port as a UDP address."""
    if value.startswith("/"):
        return value
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"VAT_LOG_SYSLOG is neither a socket path nor host:port: {value!r}")
    return host, int(port)


def configure(app: Flask) -> None:
    """Send the app's loggers to stdout as JSON lines (and to syslog) when configured."""
    if app.config["VAT_LOG_FORMAT"] != "json" and not app.config["VAT_LOG_SYSLOG"]:
        return
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if app.config["VAT_LOG_SYSLOG"]:
        handlers.append(logging.handlers.SysLogHandler(address=syslog_address(app.config["VAT_LOG_SYSLOG"])))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.set_name("vat-json")
    for name in APP_LOGGERS:
        logger = logging.getLogger(name)
        # These handlers replace any before them (Flask's text handler on `vat`, or those of an
        # app created earlier in the same process): one line per record.
        for old in list(logger.handlers):
            logger.removeHandler(old)
            if old.get_name() == "vat-json":
                old.close()
        for handler in handlers:
            logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.propagate = False


class GunicornJsonLogger(GunicornLogger):
    """gunicorn's own log and its access log in the app's JSON lines (gunicorn.conf.py sets it with
    VAT_LOG_FORMAT=json). An access line names the method, the path without its query string,
    the status, the bytes sent and the milliseconds taken — like the app's log, no address, user
    agent or referrer."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if status.isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
        }
        message = f"{fields['method']} {fields['path']} {status}"
        self.access_log.info(message, extra={"fields": fields})
