from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.roles import request_is_tenant_admin
from accounts.scoping import TenantScopedMixin
from webhooks.inbound.filters import InboundMessageFilter, InboundSourceFilter
from webhooks.inbound.models import InboundMessage, InboundSource
from webhooks.inbound.serializers import (
    InboundMessageDetailSerializer,
    InboundMessageSerializer,
    InboundSourceCreatedSerializer,
    InboundSourceSerializer,
)
from webhooks.inbound.services import (
    message_process,
    source_create,
    source_delete,
    source_drop_previous_secrets,
    source_rotate_key,
    source_rotate_url,
    source_set_signing_secret,
)


@extend_schema(tags=["inbound-sources"])
class InboundSourceViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Senders allowed to post inbound webhooks for your tenant. The key is shown once, at creation."""

    queryset = InboundSource.objects.filter(deleted_at__isnull=True)
    serializer_class = InboundSourceSerializer
    filterset_class = InboundSourceFilter

    @extend_schema(request=InboundSourceSerializer, responses={201: InboundSourceCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = InboundSourceSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("drop_previous_secrets", None)
        source, key = source_create(tenant=self.tenant, **data)
        source.api_key = key
        return Response(InboundSourceCreatedSerializer(source, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        secret_given = "signing_secret" in data
        secret = data.pop("signing_secret", None)
        drop = data.pop("drop_previous_secrets", False)
        source = serializer.instance
        for field, value in data.items():
            setattr(source, field, value)
        source.save(update_fields=[*data, "updated_at"])
        if secret_given:
            source_set_signing_secret(source=source, secret=secret)
        if drop:
            source_drop_previous_secrets(source=source)

    def perform_destroy(self, instance):
        """Deleting keeps the source's message history: the source is retired, not removed."""
        source_delete(source=instance)

    @extend_schema(request=None, responses={200: InboundSourceCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, pk=None):
        """Replace the key at once; the old key stops working."""
        source = self.get_object()
        source.api_key = source_rotate_key(source=source)
        return Response(InboundSourceCreatedSerializer(source, context={"request": request}).data)


    @extend_schema(request=None, responses={200: InboundSourceSerializer, 403: None})
    @action(detail=True, methods=["post"], url_path="rotate-url")
    def rotate_url(self, request, pk=None):
        """Give the source a new URL at once; the old one answers 404. Owners and admins only."""
        source = self.get_object()
        if not request_is_tenant_admin(request):
            raise PermissionDenied("Only the tenant's owners and admins can rotate a source URL.")
        source_rotate_url(source=source)
        return Response(InboundSourceSerializer(source, context={"request": request}).data)


@extend_schema(tags=["inbound-messages"])
class InboundMessageViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """What your senders posted, newest first: find failures, see the answer they got, replay them.

    The recorder document's "status dashboard" and "failed webhooks can be retried manually", as an API.
    """

    queryset = InboundMessage.objects.all()
    filterset_class = InboundMessageFilter
    member_actions = {"replay"}
    ordering_fields = ["received_at", "processed_at"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action != "list" else queryset.defer("body", "headers", "response_body", "traceback")

    def get_serializer_class(self):
        return InboundMessageSerializer if self.action == "list" else InboundMessageDetailSerializer

    @extend_schema(request=None, responses={200: InboundMessageDetailSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Run the handler again on the stored raw body (handlers are idempotent); answers the message after."""
        message = self.get_object()
        if message.status == InboundMessage.Status.DUPLICATE:
            return Response({"detail": f"A duplicate keeps no body; replay the original ({message.duplicate_of_id})."},
                            status=status.HTTP_409_CONFLICT)
        message_process(message_pk=message.pk, force=True)
        message.refresh_from_db()
        return Response(InboundMessageDetailSerializer(message, context={"request": request}).data)
