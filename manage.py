#!/usr/bin/env python
"""Django's command-line utility, with configuration errors reduced to one clear line."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    from config.startup import configuration_error, database_unreachable, stop

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        stop(configuration_error(exc), code=1)
    except OperationalError as exc:
        stop(database_unreachable(exc), code=1)


if __name__ == "__main__":
    main()
