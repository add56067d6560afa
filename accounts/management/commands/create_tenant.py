import json

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import SlugTaken, tenant_create


class Command(BaseCommand):
    help = "Create a tenant, its owner user and an API token, and print them."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--owner", required=True, help="owner's e-mail (an existing user is reused)")
        parser.add_argument("--name", default="", help="display name (defaults to the slug)")
        parser.add_argument("--password", help="owner's password (generated when omitted)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object, for scripts")
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="where Streamhook answers, for the example printed (default %(default)s)")

    def handle(self, *args, slug, owner, name, password, as_json: bool, url: str, **options):
        try:
            if password:  # a person types this one: hold it to the same rules as the admin's forms
                validate_password(password, get_user_model()(username=owner, email=owner))
            created = tenant_create(slug=slug, owner_email=owner, name=name, password=password)
        except SlugTaken as exc:  # likely a second `make run` start: its banner suggests "demo" every time
            raise CommandError(" ".join(exc.messages) + "; choose another slug, or make its owner another token: "
                               "signed in at /api-auth/login/, POST /api/v1/tokens (or the admin's API tokens page)"
                               ) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if as_json:
            self.stdout.write(json.dumps({
                "tenant": created.tenant.slug,
                "owner": created.owner.email,
                "password": created.password,
                "token": created.token_key,
            }))
            return
        self.stdout.write(self.style.SUCCESS(f"Tenant {created.tenant.slug!r} created."))
        self.stdout.write(f"  owner:    {created.owner.email}")
        if created.password:
            self.stdout.write(f"  password: {created.password}")
        else:
            self.stdout.write("  password: (existing user, unchanged)")
        self.stdout.write(f"  token:    {created.token_key}   (shown only now; only its hash is kept)")
        self.stdout.write("The owner signs in to the browsable API at /api-auth/login/ (not /admin/, which is for")
        self.stdout.write("operators: manage.py createsuperuser). Try:")
        self.stdout.write(f"  curl -H 'Authorization: Bearer {created.token_key}' {url.rstrip('/')}/api/v1/webhooks")
