import json
import logging

from django.conf import settings
from pythonjsonlogger.json import JsonFormatter


def test_json_log_lines_carry_level_logger_message_and_extra_fields():
    spec = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(spec["fmt"], rename_fields=spec["rename_fields"])
    record = logging.LogRecord("metering.ingest", logging.WARNING, __file__, 1, "rejected %s", ("M-1",), None)
    record.rejected = 3

    line = json.loads(formatter.format(record))

    assert line["level"] == "WARNING"
    assert line["logger"] == "metering.ingest"
    assert line["message"] == "rejected M-1"
    assert line["rejected"] == 3
