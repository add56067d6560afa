from rest_framework import serializers

from recordings.models import Recording


class RecordingSerializer(serializers.ModelSerializer):
    user_email = serializers.EmailField(source="user.email", read_only=True, default=None)

    class Meta:
        model = Recording
        fields = [
            "id", "recording_id", "origin", "status", "title", "user_email", "username", "stream_id",
            "recorded_at", "duration_seconds", "duration_database", "total_size_mb", "file_sizes_mb",
            "file_size_bytes", "files", "uploaded_at", "upload_source", "bucket_name", "region",
            "created_at", "updated_at",
        ]
        read_only_fields = fields


class RecordingDetailSerializer(RecordingSerializer):
    class Meta(RecordingSerializer.Meta):
        fields = [*RecordingSerializer.Meta.fields, "raw_payload"]
        read_only_fields = fields
