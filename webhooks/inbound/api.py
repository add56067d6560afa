from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.scoping import TenantScopedMixin
from webhooks.inbound.models import InboundSource
from webhooks.inbound.serializers import InboundSourceCreatedSerializer, InboundSourceSerializer
from webhooks.inbound.services import (
    source_create,
    source_drop_previous_secrets,
    source_rotate_key,
    source_set_signing_secret,
)


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

    queryset = InboundSource.objects.all()
    serializer_class = InboundSourceSerializer
    filterset_fields = ["kind", "is_active"]

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

    @extend_schema(request=None, responses={200: InboundSourceCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, pk=None):
        """Replace the key at once; the old key stops working."""
        source = self.get_object()
        source.api_key = source_rotate_key(source=source)
        return Response(InboundSourceCreatedSerializer(source, context={"request": request}).data)
