"""The recorder's example payloads and a recorder source for recordings tests."""

import copy

from webhooks.inbound.services import source_create

RECORDER_CURL_EXAMPLE = {
    "recording_id": 999,
    "title": "Test Recording",
    "user_info": {"email": "souvik@fyelabs.com", "username": "souvik"},
    "uploaded_files": {"video": "https://s3.us-west-1.idrivee2.com/fyemeet/999/video.mkv"},
    "duration_seconds": 120,
    "bucket_name": "fyemeet",
    "region": "us-west-1",
}

RECORDER_FULL_EXAMPLE = {
    "recording_id": 3,
    "title": "Meeting 2025-10-24 21:55",
    "created_at": "2025-10-25 01:55:59.374860",
    "duration_seconds": 77,
    "duration_database": 77,
    "user_info": {"username": "souvik", "email": "souvik@fyelabs.com"},
    "file_info": {
        "total_size_mb": 0.51,
        "individual_sizes_mb": {"video.mkv": 0.5, "thumbnail.jpg": 0.01, "transcript.txt": 0.0},
    },
    "uploaded_files": {
        "video": "https://s3.us-west-1.idrivee2.com/fyemeet/3/video.mkv",
        "thumbnail": "https://s3.us-west-1.idrivee2.com/fyemeet/3/thumbnail.jpg",
        "transcript": "https://s3.us-west-1.idrivee2.com/fyemeet/3/transcript.txt",
        "metadata": "https://s3.us-west-1.idrivee2.com/fyemeet/3/metadata.json",
    },
    "upload_timestamp": "2025-10-24T21:57:22.775114",
    "upload_source": "background_thread",
    "bucket_name": "fyemeet",
    "region": "us-west-1",
}


def payload(base=None, **changes) -> dict:
    data = copy.deepcopy(base or RECORDER_CURL_EXAMPLE)
    data.update(changes)
    return data


def recorder_source(tenant, **kwargs):
    """(source, key)"""
    return source_create(tenant=tenant, name="recorder", kind="recorder", **kwargs)


def add_member(tenant, email: str, username: str | None = None):
    from django.contrib.auth import get_user_model

    from accounts.models import Membership

    user = get_user_model().objects.create_user(username=username or email, email=email, password="x-pw-123456")
    Membership.objects.create(tenant=tenant, user=user)
    return user
