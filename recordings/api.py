from drf_spectacular.utils import extend_schema
from rest_framework import viewsets

from accounts.scoping import TenantScopedMixin
from recordings.filters import RecordingFilter
from recordings.models import Recording
from recordings.serializers import RecordingDetailSerializer, RecordingSerializer


@extend_schema(tags=["recordings"])
class RecordingViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Recordings of your tenant, newest first; filter by user email, recording date or id."""

    queryset = Recording.objects.select_related("user")
    serializer_class = RecordingSerializer
    filterset_class = RecordingFilter
    ordering_fields = ["recorded_at", "created_at", "updated_at", "duration_seconds"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        return RecordingDetailSerializer if self.action == "retrieve" else RecordingSerializer
