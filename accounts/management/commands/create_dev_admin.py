from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand

from accounts.dev_admin import dev_admin_ensure


class Command(BaseCommand):
    help = "Development only: make sure a superuser exists and print how to sign in to /admin/ (DEBUG off: a hint)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/", help="admin URL to print")

    def handle(self, *args, url: str, **options):
        try:
            admin = dev_admin_ensure()
        except ImproperlyConfigured:
            # Not development settings (DEBUG off): make no account, but `make run` goes on.
            self.stdout.write(f"  Admin:     {url}   (make an operator: manage.py createsuperuser)")
            return
        if admin.password:
            note = " (created now)" if admin.created else ""
            self.stdout.write(f"  Admin:     {url}   user {admin.username!r}, password {admin.password!r}{note}")
        else:
            self.stdout.write(f"  Admin:     {url}   user {admin.username!r} (forgot the password? "
                              f"manage.py changepassword {admin.username})")
