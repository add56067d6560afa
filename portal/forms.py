"""HTML forms of the portal. They only turn browser fields into the API's shapes; the API's own
serializers validate them, so the portal and `/api/v1/webhooks` accept and refuse the same things.

To add an endpoint field (the "profiles" branch's `headers` and `profile`): declare it on
`EndpointForm`, convert it in `EndpointForm.payload()`, and list it in `ENDPOINT_FIELDS` (the
template renders the form's fields in that order).
"""

import json

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Membership
from accounts.roles import OWNER, role_at_least
from accounts.serializers import MemberInviteSerializer, MemberRoleSerializer
from webhooks.models import Delivery, Endpoint
from webhooks.registry import all_event_types
from webhooks.serializers import EndpointSerializer, RecoverInputSerializer, TestSendInputSerializer

ENDPOINT_FIELDS = (
    "url", "description", "events", "is_active", "signature_scheme", "signature_header",
    "payload_style", "retry_schedule", "rate_limit",
)


def _numbers(text: str, field: str) -> list[float]:
    try:
        return [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(f"{field}: seconds separated by commas, e.g. 5, 300, 1800.") from None


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, label="URL", widget=forms.URLInput(attrs={"placeholder": "https://"}))
    description = forms.CharField(max_length=500, required=False)
    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None checked: every event type.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    signature_scheme = forms.ChoiceField(choices=Endpoint.Scheme.choices, initial=Endpoint.Scheme.STANDARD)
    signature_header = forms.CharField(max_length=100, initial="X-Webhook-Signature",
                                       help_text="Used by the hmac-sha256-hex scheme.")
    payload_style = forms.ChoiceField(choices=Endpoint.Style.choices, initial=Endpoint.Style.STANDARD)
    retry_schedule = forms.CharField(
        required=False, help_text="Seconds before each retry, e.g. 1, 5, 25. Empty: the default schedule; "
                                  "\"none\": no retries.",
    )
    rate_limit = forms.CharField(required=False, help_text="Deliveries per second; empty: no limit.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(t.name, t.name) for t in all_event_types()]

    @classmethod
    def initial_for(cls, endpoint: Endpoint) -> dict:
        schedule = endpoint.retry_schedule
        return {
            "url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
            "is_active": endpoint.is_active, "signature_scheme": endpoint.signature_scheme,
            "signature_header": endpoint.signature_header, "payload_style": endpoint.payload_style,
            "retry_schedule": "" if schedule is None else ("none" if not schedule else
                                                           ", ".join(f"{s:g}" for s in schedule)),
            "rate_limit": "" if endpoint.rate_limit is None else f"{endpoint.rate_limit:g}",
        }

    def clean_retry_schedule(self):
        text = self.cleaned_data["retry_schedule"].strip()
        if not text:
            return None
        if text.lower() == "none":
            return []
        return _numbers(text, "retry_schedule")

    def clean_rate_limit(self):
        text = self.cleaned_data["rate_limit"].strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ValidationError("A number of deliveries per second, e.g. 10.") from None

    def payload(self) -> dict:
        """The API's resource for the cleaned fields (docs/webhooks.md, section 1)."""
        return {name: self.cleaned_data[name] for name in ENDPOINT_FIELDS if name in self.cleaned_data}

    def validated(self, endpoint: Endpoint | None = None) -> dict | None:
        """The fields as the API's serializer accepts them, or None with the errors on this form."""
        if not self.is_valid():
            return None
        serializer = EndpointSerializer(endpoint, data=self.payload())
        if serializer.is_valid():
            return serializer.validated_data
        self.add_errors(serializer.errors)
        return None

    def add_errors(self, errors: dict) -> None:
        for field, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(field if field in self.fields else None, str(message))


class TestSendForm(forms.Form):
    event_type = forms.ChoiceField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = [(t.name, t.name) for t in all_event_types() if t.durable]

    def chosen_type(self) -> str | None:
        if not self.is_valid():
            return None
        serializer = TestSendInputSerializer(data=self.cleaned_data)
        if not serializer.is_valid():
            self.add_error("event_type", str(serializer.errors["event_type"][0]))
            return None
        return serializer.validated_data["event_type"]


class RecoverForm(forms.Form):
    since = forms.CharField(label="Failed since", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def since_value(self):
        if not self.is_valid():
            return None
        serializer = RecoverInputSerializer(data=self.cleaned_data)
        if not serializer.is_valid():
            self.add_error("since", "A date and time, e.g. 2026-12-06T08:00.")
            return None
        return serializer.validated_data["since"]


class DeliveryFilterForm(forms.Form):
    """The log's filters as fields (for rendering); `webhooks.filters.DeliveryFilter` applies them."""

    status = forms.ChoiceField(required=False, choices=[("", "any status"), *Delivery.Status.choices])
    event_type = forms.ChoiceField(required=False)
    endpoint = forms.IntegerField(required=False, widget=forms.HiddenInput)
    since = forms.CharField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.CharField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = [("", "any type"), *((t.name, t.name) for t in all_event_types())]


def roles_grantable(acting_role: str | None) -> list[tuple[str, str]]:
    """The roles `acting_role` may hand out: only owners make owners (accounts.members enforces it)."""
    return [(value, label) for value, label in Membership.Role.choices
            if value != OWNER or role_at_least(acting_role, OWNER)]


def add_api_errors(form: forms.Form, errors: dict) -> None:
    """An API serializer's or a service's errors on the form, on the field they name where it has one."""
    for field, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(field if field in form.fields else None, str(message))


class _MemberForm(forms.Form):
    """Validates like the API (its serializer); the role list offers only what the person may grant,
    while a posted owner role still reaches the service, whose refusal the page shows."""

    serializer_class: type = MemberRoleSerializer

    def __init__(self, *args, acting_role: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = roles_grantable(acting_role)

    def validated(self) -> dict | None:
        """The fields as the API's serializer accepts them, or None with the errors on this form."""
        if not self.is_valid():
            return None
        serializer = self.serializer_class(data=self.cleaned_data)
        if serializer.is_valid():
            return dict(serializer.validated_data)
        add_api_errors(self, serializer.errors)
        return None


class MemberInviteForm(_MemberForm):
    serializer_class = MemberInviteSerializer

    email = forms.CharField(max_length=254, label="E-mail",
                            widget=forms.EmailInput(attrs={"placeholder": "name@example.com"}))
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(_MemberForm):
    role = forms.ChoiceField(choices=Membership.Role.choices)


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
