"""The tenant portal's pages. Each view parses, authorises (portal/access.py) and calls one service
or selector; what a page shows is decided in portal/selectors.py and the webhooks app."""

from collections.abc import Sequence

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import members
from accounts.models import Membership
from accounts.roles import OWNER, role_at_least
from core.crypto import reveal
from portal import selectors
from portal.access import tenant_admin, tenant_member
from portal.forms import (
    DeliveryFilterForm,
    EndpointForm,
    MemberInviteForm,
    MemberRoleForm,
    RecoverForm,
    TestSendForm,
    add_api_errors,
    pretty_json,
    roles_grantable,
)
from webhooks import conf, services
from webhooks.filters import DeliveryFilter
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.services import message_process
from webhooks.models import Delivery, Endpoint
from webhooks.registry import all_event_types


def _endpoint(request: HttpRequest, endpoint_id: int) -> Endpoint:
    try:
        return selectors.endpoint_get(tenant=request.tenant, endpoint_id=endpoint_id)
    except Endpoint.DoesNotExist:
        raise Http404("No such endpoint.") from None


def _delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    try:
        return selectors.delivery_get(tenant=request.tenant, delivery_id=delivery_id)
    except Delivery.DoesNotExist:
        raise Http404("No such delivery.") from None


def _error_messages(exc: DjangoValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{field}: {m}" if field != "__all__" else m for field, ms in exc.message_dict.items() for m in ms]
    return list(exc.messages)


@tenant_member
def home(request: HttpRequest) -> HttpResponse:
    return redirect("portal:endpoints")


# --- Endpoints ------------------------------------------------------------------------------


@tenant_member
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/endpoint_list.html",
                  {"rows": selectors.endpoint_health_list(tenant=request.tenant)})


def _endpoint_form_page(request, form, endpoint=None, status=200) -> HttpResponse:
    return render(request, "portal/endpoint_form.html", {
        "form": form, "endpoint": endpoint,
        "event_types": [{"name": t.name, "description": t.description, "durable": t.durable,
                         "example_json": pretty_json(t.example)} for t in all_event_types()],
        "checked": set(form["events"].value() or []),
    }, status=status)


@tenant_admin
def endpoint_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _endpoint_form_page(request, EndpointForm())
    form = EndpointForm(request.POST)
    fields = form.validated()
    if fields is not None:
        try:
            endpoint = services.endpoint_create(tenant=request.tenant, **fields)
        except DjangoValidationError as exc:
            form.add_errors(exc.message_dict)
        else:
            messages.success(request, "Endpoint created.")
            return redirect("portal:endpoint", endpoint_id=endpoint.pk)
    return _endpoint_form_page(request, form, status=400)


@tenant_admin
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if request.method != "POST":
        return _endpoint_form_page(request, EndpointForm(initial=EndpointForm.initial_for(endpoint)), endpoint)
    form = EndpointForm(request.POST)
    fields = form.validated(endpoint)
    if fields is not None:
        try:
            services.endpoint_update(endpoint=endpoint, **fields)
        except DjangoValidationError as exc:
            form.add_errors(exc.message_dict)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("portal:endpoint", endpoint_id=endpoint.pk)
    return _endpoint_form_page(request, form, endpoint, status=400)


def _endpoint_page(request, endpoint, *, secret: str | None = None, rotated: bool = False,
                   test_form=None, recover_form=None, status: int = 200) -> HttpResponse:
    response = render(request, "portal/endpoint_detail.html", {
        "endpoint": endpoint,
        "stats": selectors.endpoint_summary(endpoint=endpoint),
        "circuit": getattr(endpoint, "circuit", None),
        "max_in_flight": getattr(endpoint, "max_in_flight", None),
        "secret": secret, "rotated": rotated,
        "overlap_hours": conf.get("WEBHOOKS_SECRET_ROTATION_OVERLAP") / 3600,
        "test_form": test_form or TestSendForm(initial={"event_type": services.TEST_EVENT_TYPE}),
        "recover_form": recover_form or RecoverForm(),
        "recent": selectors.delivery_log_page(
            queryset=selectors.delivery_log(tenant=request.tenant).filter(endpoint=endpoint), number=1,
        ).deliveries[:10],
    }, status=status)
    if secret:
        response["Cache-Control"] = "no-store"  # a secret must not stay in a shared or back-button cache
    return response


@tenant_member
@require_GET
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return _endpoint_page(request, _endpoint(request, endpoint_id))


@tenant_admin
@require_POST
@never_cache
def endpoint_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    return _endpoint_page(request, endpoint, secret=reveal(endpoint.secret))


@tenant_admin
@require_POST
@never_cache
def endpoint_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    secret = services.endpoint_rotate_secret(endpoint=endpoint)
    return _endpoint_page(request, endpoint, secret=secret, rotated=True)


@tenant_member
@require_POST
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = TestSendForm(request.POST)
    event_type = form.chosen_type()
    if event_type is None:
        return _endpoint_page(request, endpoint, test_form=form, status=400)
    try:
        sent = services.endpoint_send_test(endpoint=endpoint, event_type=event_type)
    except DjangoValidationError as exc:
        for message in _error_messages(exc):
            form.add_error(None, message)
        return _endpoint_page(request, endpoint, test_form=form, status=400)
    return redirect("portal:delivery", delivery_id=sent.delivery.pk)


@tenant_member
@require_POST
def endpoint_recover(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = RecoverForm(request.POST)
    since = form.since_value()
    if since is None:
        return _endpoint_page(request, endpoint, recover_form=form, status=400)
    try:
        count = services.endpoint_recover(endpoint=endpoint, since=since)
    except DjangoValidationError as exc:
        for message in _error_messages(exc):
            form.add_error(None, message)
        return _endpoint_page(request, endpoint, recover_form=form, status=400)
    messages.success(request, f"{count} failed deliveries queued again.")
    return redirect("portal:endpoint", endpoint_id=endpoint.pk)


# --- Deliveries -----------------------------------------------------------------------------


@tenant_member
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET)
    queryset = selectors.delivery_log(tenant=request.tenant)
    endpoint = None
    if request.GET.get("endpoint"):
        try:
            endpoint = _endpoint(request, int(request.GET["endpoint"]))
        except ValueError:
            return HttpResponseBadRequest("endpoint: must be an endpoint's number.")
        queryset = queryset.filter(endpoint=endpoint)
    filterset = DeliveryFilter(request.GET, queryset=queryset)
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        filterset.errors["page"] = ["A page number, from 1."]
        number = 1
    if filterset.errors:
        return render(request, "portal/delivery_list.html",
                      {"form": form, "errors": filterset.errors, "endpoint": endpoint}, status=400)
    page = selectors.delivery_log_page(queryset=filterset.qs, number=number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/delivery_list.html", {
        "form": form, "page": page, "endpoint": endpoint, "query": query.urlencode(),
    })


def _delivery_context(delivery: Delivery) -> dict:
    attempts = selectors.attempt_views(delivery=delivery)
    return {
        "delivery": delivery, "attempts": attempts,
        # The page polls while a try is due (a test send, a resend), so its outcome appears by itself.
        "waiting": delivery.status == Delivery.Status.PENDING,
    }


@tenant_member
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    return render(request, "portal/delivery_detail.html", _delivery_context(_delivery(request, delivery_id)))


@tenant_member
@require_GET
def delivery_attempts(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """The attempts fragment, polled by the delivery page while the delivery is pending."""
    return render(request, "portal/_attempts.html", _delivery_context(_delivery(request, delivery_id)))


@tenant_member
@require_POST
def delivery_resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = _delivery(request, delivery_id)
    try:
        services.delivery_redeliver(delivery=delivery)
    except DjangoValidationError as exc:
        for message in _error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, "Queued again, with the same message id.")
    return redirect("portal:delivery", delivery_id=delivery.pk)


# --- Live tail ------------------------------------------------------------------------------


@tenant_member
@require_GET
def tail(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/tail.html", {"attempts": selectors.attempt_tail(tenant=request.tenant)})


@tenant_member
@require_GET
def tail_rows(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/_tail_rows.html", {"attempts": selectors.attempt_tail(tenant=request.tenant)})


# --- Catalogue and inbound ------------------------------------------------------------------


@tenant_member
@require_GET
def event_catalogue(request: HttpRequest) -> HttpResponse:
    entries = [{"type": e.event_type, "schema": pretty_json(e.schema), "example": pretty_json(e.event_type.example)}
               for e in selectors.event_catalogue()]
    return render(request, "portal/events.html", {"entries": entries})


@tenant_member
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    sources = [{"source": s, "urls": _source_urls(request, s)} for s in selectors.source_list(tenant=request.tenant)]
    return render(request, "portal/source_list.html", {"sources": sources})


def _source_urls(request: HttpRequest, source) -> list[str]:
    """Where this source's sender posts: its source URL once sources have one, else the kind's paths."""
    if getattr(source, "url", None):
        return [source.url]
    names = {
        "realcast": [("streams-realcast", {"source_id": source.pk})],
        "stream-assistant": [("streams-track-classified", {}), ("streams-chat-interaction", {}),
                             ("streams-stream-stats", {})],
        "recorder": [("recordings-webhook", {})],
    }.get(source.kind, [])
    urls = []
    for name, kwargs in names:
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # a path its app doesn't wire is simply not shown
            continue
        # The recorder's documented path ends in a slash; its pattern accepts both, reverse() gives neither.
        urls.append(request.build_absolute_uri(path + "/" if name == "recordings-webhook" else path))
    return urls


@tenant_member
@require_GET
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    try:
        source = selectors.source_get(tenant=request.tenant, source_id=source_id)
    except InboundSource.DoesNotExist:
        raise Http404("No such source.") from None
    return render(request, "portal/source_detail.html", {
        "source": source, "urls": _source_urls(request, source),
        "messages_": selectors.source_messages(source=source),
    })


def _message(request: HttpRequest, message_id: int) -> InboundMessage:
    try:
        return selectors.message_get(tenant=request.tenant, message_id=message_id)
    except InboundMessage.DoesNotExist:
        raise Http404("No such message.") from None


@tenant_member
@require_GET
def message_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    return render(request, "portal/message_detail.html", {
        "message": message, "body": bytes(message.body).decode("utf-8", errors="replace"),
        "headers": pretty_json(message.headers), "response": pretty_json(message.response_body),
    })


@tenant_member
@require_POST
def message_replay(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message(request, message_id)
    if message.status == InboundMessage.Status.DUPLICATE:
        messages.error(request, "A duplicate keeps no body; replay the original.")
        return redirect("portal:message", message_id=message.pk)
    outcome = message_process(message_pk=message.pk, force=True)
    status = outcome.message.status if outcome and outcome.message else message.status
    messages.success(request, f"Replayed: {status}.")
    return redirect("portal:message", message_id=message.pk)


# --- Members --------------------------------------------------------------------------------


def _membership(request: HttpRequest, member_id: int) -> Membership:
    try:
        return selectors.member_get(tenant=request.tenant, member_id=member_id)
    except Membership.DoesNotExist:
        raise Http404("No such member.") from None


def _members_page(request: HttpRequest, *, invite_form: MemberInviteForm | None = None,
                  failed: Membership | None = None, failed_errors: Sequence[str] = (),
                  status: int = 200) -> HttpResponse:
    acting_role = request.tenant_role
    rows = [{
        "membership": m,
        # Admins manage admins and members; only owners touch owners (accounts.members refuses the rest).
        "manageable": request.is_tenant_admin and (m.role != OWNER or role_at_least(acting_role, OWNER)),
        "errors": list(failed_errors) if failed is not None and m.pk == failed.pk else [],
    } for m in selectors.member_list(tenant=request.tenant)]
    return render(request, "portal/members.html", {
        "rows": rows, "acting_role": acting_role, "roles": roles_grantable(acting_role),
        "invite_form": invite_form or MemberInviteForm(acting_role=acting_role),
    }, status=status)


@tenant_member
@require_GET
def member_list(request: HttpRequest) -> HttpResponse:
    return _members_page(request)


@tenant_admin
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    acting_role = request.tenant_role
    form = MemberInviteForm(request.POST, acting_role=acting_role)
    fields = form.validated()
    if fields is None:
        return _members_page(request, invite_form=form, status=400)
    try:
        membership, emailed = members.member_invite(
            tenant=request.tenant, acting_role=acting_role, request=request, **fields)
    except PermissionDenied as exc:
        form.add_error("role", str(exc))
        return _members_page(request, invite_form=form, status=403)
    except DjangoValidationError as exc:
        add_api_errors(form, exc.message_dict)
        return _members_page(request, invite_form=form, status=400)
    email, role = membership.user.email, membership.get_role_display().lower()
    if emailed:
        messages.success(request, f"Invited {email} as {role}: an e-mail with a link to choose a password "
                                  "is on its way.")
    elif membership.user.has_usable_password():
        messages.success(request, f"Added {email} as {role}; they sign in with the password they have.")
    else:
        messages.error(request, f"Added {email} as {role}, but the invitation e-mail could not be sent; "
                                "invite them again once mail works, or ask an operator.")
    return redirect("portal:members")


@tenant_admin
@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = _membership(request, member_id)
    form = MemberRoleForm(request.POST)
    fields = form.validated()
    if fields is None:
        errors = [f"{name}: {e}" for name, es in form.errors.items() for e in es]
        return _members_page(request, failed=membership, failed_errors=errors, status=400)
    try:
        members.member_change_role(membership=membership, role=fields["role"], acting_role=request.tenant_role)
    except PermissionDenied as exc:
        return _members_page(request, failed=membership, failed_errors=[f"role: {exc}"], status=403)
    except DjangoValidationError as exc:
        return _members_page(request, failed=membership, failed_errors=_error_messages(exc), status=400)
    messages.success(request, f"{membership.user.email or membership.user.get_username()} is now "
                              f"{membership.get_role_display().lower()}.")
    return redirect("portal:members")


@tenant_admin
@require_POST
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = _membership(request, member_id)
    try:
        members.member_remove(membership=membership, acting_role=request.tenant_role)
    except PermissionDenied as exc:
        return _members_page(request, failed=membership, failed_errors=[f"role: {exc}"], status=403)
    except DjangoValidationError as exc:
        return _members_page(request, failed=membership, failed_errors=_error_messages(exc), status=400)
    messages.success(request, f"Removed {membership.user.email or membership.user.get_username()} from "
                              f"{request.tenant.slug}.")
    return redirect("portal:members")
