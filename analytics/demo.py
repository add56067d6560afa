"""Realistic demo data at volume: DJ sessions with viewer curves, classified tracks and chat.

Rows are generated in memory per batch of sessions and written with `core.bulk.objects_insert`:
COPY on PostgreSQL (ids drawn from the sequences first, so chat interactions can point at their
tracks) or large `bulk_create` batches elsewhere.
Deterministic for a given `seed`, except the session ids (UUIDs, so runs never collide).
"""

import hashlib
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from accounts.models import Tenant
from core.bulk import objects_insert
from streams.models import ChatInteraction, ChatMessage, StreamSession, TrackPlay, ViewerSample

TAXONOMY: dict[str, dict[str, list[str]]] = {
    "drum and bass": {
        "liquid dnb": ["atmospheric", "jazzy", "melodic", "rolling", "soulful"],
        "neurofunk": ["dark", "technical", "aggressive", "bass-heavy"],
        "jump up": ["bouncy", "wobbly", "energetic", "bass-heavy"],
    },
    "house": {
        "deep house": ["groovy", "soulful", "warm", "jazzy", "atmospheric"],
        "tech house": ["groovy", "percussive", "minimal", "driving"],
        "progressive house": ["melodic", "uplifting", "euphoric", "atmospheric"],
    },
    "techno": {
        "minimal techno": ["hypnotic", "minimal", "stripped", "percussive"],
        "melodic techno": ["melodic", "dark", "atmospheric", "driving"],
        "hard techno": ["aggressive", "industrial", "fast", "driving"],
    },
    "breaks": {
        "florida breaks": ["funky", "bass-heavy", "bouncy", "energetic"],
        "nu skool breaks": ["funky", "electronic", "driving", "dark"],
    },
    "trance": {
        "uplifting trance": ["euphoric", "uplifting", "melodic", "energetic"],
        "psytrance": ["psychedelic", "driving", "hypnotic", "fast"],
    },
    "garage": {"uk garage": ["shuffling", "soulful", "bouncy", "groovy"]},
    "dubstep": {"deep dubstep": ["dark", "sub-heavy", "minimal", "atmospheric"]},
}
KEYS = [f"{note} {mode}" for note in ("A", "B", "C", "D", "E", "F", "G") for mode in ("minor", "major")]
BPM = {"drum and bass": 174, "house": 124, "techno": 132, "breaks": 130, "trance": 138, "garage": 132,
       "dubstep": 140}
ENGAGEMENT = {"educational": 5, "hype": 9, "trivia": 6, "question": 4, "shoutout": 3}
PLATFORMS = [("twitch", 0.7), ("youtube", 0.2), ("kick", 0.1)]
SUBGENRES = [(genre, sub) for genre, subs in TAXONOMY.items() for sub in subs]


@dataclass
class SeedResult:
    sessions: int = 0
    plays: int = 0
    interactions: int = 0
    samples: int = 0
    messages: int = 0


def seed_demo_data(
    *, tenant: Tenant, plays: int, sessions: int, days: int = 365, seed: int = 1, batch_sessions: int = 500,
    end: datetime | None = None, progress: Callable[[SeedResult], None] | None = None,
    result: SeedResult | None = None,
) -> SeedResult:
    """Insert `sessions` sessions holding `plays` track plays in total, spread over the `days` before `end`.

    Each batch of sessions is one transaction and is counted into `result` (pass your own to know
    what was committed when the run is interrupted).
    """
    rng = random.Random(seed)
    end = end or datetime.now(UTC).replace(microsecond=0)
    djs = [(f"dj_{name}{i}", rng.sample(SUBGENRES, 3)) for i, name in
           enumerate(rng.choices(["luna", "kai", "nova", "rex", "mira", "juno", "ash", "zed", "ivy", "otto"], k=200))]
    result = result if result is not None else SeedResult()
    for first in range(0, sessions, batch_sessions):
        count = min(batch_sessions, sessions - first)
        per_session = [plays // sessions + (1 if i < plays % sessions else 0) for i in range(first, first + count)]
        _seed_batch(tenant, rng, per_session, djs, end, days, result)
        if progress:
            progress(result)
    return result


def _seed_batch(tenant, rng, per_session, djs, end, days, result: SeedResult) -> None:
    streams, tracks, samples, messages, pending_chat = [], [], [], [], []
    for n_tracks in per_session:
        dj, favourites = rng.choice(djs)
        started = end - timedelta(seconds=rng.randrange(days * 86400))
        lengths = [rng.randint(150, 360) for _ in range(n_tracks)]
        duration = sum(lengths) + rng.randint(0, 300)
        base, peak = rng.randint(5, 80), rng.randint(80, 1200)
        stream = StreamSession(
            tenant=tenant, session_id=f"demo-{uuid.uuid4()}",  # not from rng: a second run adds sessions
            platform=rng.choices([p for p, _ in PLATFORMS], [w for _, w in PLATFORMS])[0], dj_username=dj,
            title=f"{favourites[0][1].title()} session", status=StreamSession.Status.OFFLINE,
            started_at=started, ended_at=started + timedelta(seconds=duration), duration_seconds=duration,
            last_event_at=started + timedelta(seconds=duration), details_at=started, status_at=started,
        )
        curve = _viewer_curve(rng, base, peak, duration)
        stream.peak_viewers = max(v for _, v in curve)
        stream.current_viewers = curve[-1][1]
        streams.append(stream)
        samples.append([(started + timedelta(seconds=s), v) for s, v in curve])
        offset, session_tracks = 0, []
        for length in lengths:
            genre, sub = rng.choice(favourites) if rng.random() < 0.7 else rng.choice(SUBGENRES)
            pool = TAXONOMY[genre][sub]
            viewers = _viewers_at(curve, offset)
            play = TrackPlay(
                tenant=tenant, played_at=started + timedelta(seconds=offset), artist=f"Artist {rng.randint(1, 3000)}",
                title=f"Track {rng.randint(1, 99999)}", bpm=BPM[genre] + rng.randint(-3, 3), key=rng.choice(KEYS),
                main_genre=genre, subgenre=sub, confidence=round(rng.uniform(0.6, 0.99), 2),
                characteristics=rng.sample(pool, rng.randint(1, min(3, len(pool)))), viewers_at_play=viewers,
            )
            session_tracks.append(play)
            # The bot comments on about half the tracks, sometimes twice; bigger audiences answer more.
            for _ in range(rng.choices([0, 1, 2], [0.5, 0.35, 0.15])[0]):
                kind = rng.choice(list(ENGAGEMENT))
                moment = play.played_at + timedelta(seconds=rng.randint(5, length - 1))
                responses = max(0, int(rng.gauss(ENGAGEMENT[kind] * (1 + viewers / 400), 2)))
                pending_chat.append((len(tracks), len(session_tracks) - 1, moment, kind, responses))
            offset += length
        tracks.append(session_tracks)
        chatters = [f"viewer{rng.randint(1, 50000)}" for _ in range(rng.randint(3, 12))]
        messages.append([(started + timedelta(seconds=rng.randrange(duration)), rng.choice(chatters))
                         for _ in range(rng.randint(5, 25))])

    with transaction.atomic():
        objects_insert(StreamSession, streams)
        all_plays = []
        for stream, session_tracks in zip(streams, tracks, strict=True):
            for play in session_tracks:
                play.session = stream
            all_plays += session_tracks
        objects_insert(TrackPlay, all_plays)
        objects_insert(ViewerSample,
            [ViewerSample(tenant=tenant, session=stream, at=moment, viewer_count=v)
             for stream, curve in zip(streams, samples, strict=True) for moment, v in curve],
        )
        chat = []
        for n, (session_index, track_index, moment, kind, responses) in enumerate(pending_chat):
            # unique per batch, so (session, at, message hash) never collides
            text = f"{kind} #{n}: {tracks[session_index][track_index].subgenre}"
            chat.append(ChatInteraction(
                tenant=tenant, session=streams[session_index], at=moment, message_sent=text,
                message_hash=hashlib.sha256(text.encode()).hexdigest(), engagement_type=kind,
                audience_reaction="positive" if responses > 4 else "neutral", response_count=responses,
                emoji_reactions={"🔥": responses // 2} if responses > 1 else {},
                track=tracks[session_index][track_index],
            ))
        objects_insert(ChatInteraction, chat)
        objects_insert(ChatMessage,
            [ChatMessage(tenant=tenant, session=stream, message_id=f"{stream.session_id}-{i}", user_id=user,
                         user_name=user, message="🔥" if i % 3 else "tune!", created_at=moment)
             for stream, rows in zip(streams, messages, strict=True) for i, (moment, user) in enumerate(rows)],
        )
    result.sessions += len(streams)
    result.plays += len(all_plays)
    result.interactions += len(chat)
    result.samples += sum(len(c) for c in samples)
    result.messages += sum(len(m) for m in messages)


def _viewer_curve(rng, base: int, peak: int, duration: int) -> list[tuple[int, int]]:
    """A reading every 10 minutes: a ramp up over the first hour, a plateau with noise, a tail-off."""
    points, seconds = [], 0
    while seconds <= duration:
        ramp = 1 - math.exp(-seconds / 1800)
        tail = 1 - max(0, (seconds - duration * 0.8) / (duration * 0.2 + 1)) * 0.6
        points.append((seconds, max(0, int((base + (peak - base) * ramp) * tail * rng.uniform(0.9, 1.1)))))
        seconds += 600
    return points


def _viewers_at(curve: list[tuple[int, int]], offset: int) -> int:
    return curve[min(offset // 600, len(curve) - 1)][1]
