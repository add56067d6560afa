"""A realistic DJ set, sent through `StreamAssistantWebhookClient` (the DJ stream assistant guide's demo).

Plain Python (no Django) so the command and the tests drive the same function. The set is
built first (`plan_set`), then played (`play_set`): stream_start, a track every few
minutes with the bot reacting in chat, a stream_update now and then, stream_end. Event
times are simulated: the set is back-dated so that it ends about now, and `speed` only
decides how long the real pauses between sends are.
"""

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from streams.client import StreamAssistantWebhookClient, WebhookResult, iso_timestamp

# main genre -> BPM range and {subgenre: (characteristics, tracks that really are that subgenre)}.
GENRES: dict[str, dict] = {
    "house": {
        "bpm": (118, 126),
        "subgenres": {
            "deep house": (["warm", "groovy", "soulful", "late-night", "rolling bass"],
                           [("Larry Heard", "Can You Feel It"), ("Kerri Chandler", "Rain"),
                            ("Moodymann", "Shades of Jae")]),
            "tech house": (["percussive", "driving", "minimal vocals", "groovy"],
                           [("Fisher", "Losing It"), ("Solomun", "Customer Is King"), ("Green Velvet", "Flash")]),
            "progressive house": (["melodic", "building", "euphoric", "layered pads"],
                                  [("Eric Prydz", "Opus"), ("Deadmau5", "Strobe"), ("Sasha", "Xpander")]),
        },
    },
    "techno": {
        "bpm": (126, 140),
        "subgenres": {
            "minimal techno": (["hypnotic", "sparse", "clicky", "repetitive"],
                               [("Plastikman", "Spastik"), ("Ricardo Villalobos", "Dexter")]),
            "melodic techno": (["emotive", "arpeggiated", "dark", "cinematic"],
                               [("Tale Of Us", "Nova"), ("Stephan Bodzin", "Powers of Ten"),
                                ("Mind Against", "Atlant")]),
            "industrial techno": (["distorted", "relentless", "metallic", "dark"],
                                  [("Surgeon", "Magneze"), ("Perc", "Take Your Body Off")]),
        },
    },
    "drum and bass": {
        "bpm": (170, 176),
        "subgenres": {
            "liquid dnb": (["atmospheric", "jazzy", "melodic", "smooth"],
                           [("LTJ Bukem", "Music"), ("Calibre", "Mr Right On"), ("High Contrast", "If We Ever"),
                            ("Netsky", "Memory Lane")]),
            "neurofunk": (["technical", "dark", "reese bass", "aggressive"],
                          [("Noisia", "Stigma"), ("Phace", "Psycho"), ("Ed Rush & Optical", "Wormhole")]),
            "jump up": (["bouncy", "wobbly", "playful", "energetic"],
                        [("Macky Gee", "Tour"), ("Hedex", "Chopsticks")]),
        },
    },
    "breaks": {
        "bpm": (128, 136),
        "subgenres": {
            "florida breaks": (["funky", "bass-heavy", "old-school", "electro"],
                               [("DJ Icey", "Beautiful"), ("Huda Hudia", "Cobra"), ("Baby Anne", "Bass Bomb")]),
            "nu skool breaks": (["rave", "gritty", "acid", "chopped"],
                                [("Plump DJs", "Scram"), ("Stanton Warriors", "Shake It"),
                                 ("Adam Freeland", "We Want Your Soul")]),
        },
    },
    "trance": {
        "bpm": (136, 140),
        "subgenres": {
            "uplifting trance": (["euphoric", "anthemic", "supersaw", "breakdown"],
                                 [("Above & Beyond", "Sun & Moon"), ("Armin van Buuren", "Communication"),
                                  ("Ferry Corsten", "Punk")]),
            "psytrance": (["psychedelic", "rolling", "twisted", "hypnotic"],
                          [("Infected Mushroom", "Becoming Insane"), ("Astrix", "Deep Jungle Walk")]),
        },
    },
}
KEYS = ["A minor", "C major", "D minor", "E minor", "F major", "G minor", "B flat minor", "F sharp minor"]

BOT_LINES = {
    "educational": ["{emoji} {sub} detected! Notice the {c1} feel and the {c2} touches at {bpm} BPM.",
                    "{emoji} Genre check: {sub}, a {main} style. Listen for the {c1} textures."],
    "hype": ["{emoji} {artist} in the mix! Chat, make some noise!", "{emoji} This {sub} is {c1}! Who's dancing?"],
    "question": ["{emoji} Who knew {artist} before tonight? Drop a {emoji}!",
                 "{emoji} {sub} or {alt}? What do you want next?"],
    "trivia": ["{emoji} Fun fact: {sub} usually sits around {bpm} BPM.",
               "{emoji} {artist} - \"{title}\" is a {sub} classic."],
}
EMOJI = {"house": "🏠", "techno": "🤖", "drum and bass": "🌊", "breaks": "🥁", "trance": "🌈"}
REACTION_EMOJI = ["🔥", "🙌", "💯", "😍", "🎶", "👀"]


@dataclass(frozen=True)
class PlannedTrack:
    at: datetime
    track_data: dict
    viewers: int
    chat: dict | None
    chat_at: datetime | None


@dataclass
class Summary:
    session_id: str
    planned: int = 0
    sent: int = 0
    failed: int = 0
    tracks: int = 0
    interactions: int = 0
    peak_viewers: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: bool = False  # should_stop() ended the set early (the stream was still ended)
    aborted: str | None = None  # why the set was given up (unreachable server, refused key)


def viewer_curve(progress: float, *, base: int, peak: int, rng: random.Random) -> int:
    """Viewers at `progress` (0..1) through the set: a rise, a plateau near the peak, a fall."""
    shape = math.sin(math.pi * min(max(progress, 0.0), 1.0)) ** 1.5
    return max(0, round(base + (peak - base) * shape * rng.uniform(0.93, 1.07)))


def plan_set(*, tracks: int, rng: random.Random, end: datetime, base_viewers: int = 15,
             peak_viewers: int = 190) -> tuple[datetime, list[PlannedTrack]]:
    """A DJ set: genres flow in blocks of a few tracks, each track 3-6 minutes, ending at `end`."""
    lengths = [timedelta(seconds=rng.randint(180, 360)) for _ in range(tracks)]
    start = end - sum(lengths, timedelta()) - timedelta(seconds=30)
    at, planned = start + timedelta(seconds=30), []
    main = rng.choice(list(GENRES))
    played: set[tuple[str, str]] = set()
    for i, length in enumerate(lengths):
        if i and rng.random() < 0.3:  # a change of genre every three or four tracks
            main = rng.choice([g for g in GENRES if g != main])
        genre = GENRES[main]
        sub = rng.choice(list(genre["subgenres"]))
        traits, tracks_of_sub = genre["subgenres"][sub]
        # A DJ doesn't play the same record twice in a set while others are left.
        unplayed = [t for t in tracks_of_sub if t not in played] or tracks_of_sub
        artist, title = rng.choice(unplayed)
        played.add((artist, title))
        characteristics = rng.sample(traits, k=min(3, len(traits)))
        bpm = rng.randint(*genre["bpm"])
        viewers = viewer_curve(i / max(tracks - 1, 1), base=base_viewers, peak=peak_viewers, rng=rng)
        track_data = {
            "artist": artist, "title": title, "bpm": bpm, "key": rng.choice(KEYS),
            "classification": {"main_genre": main, "subgenre": sub, "confidence": round(rng.uniform(0.72, 0.99), 2),
                               "characteristics": characteristics},
        }
        chat = chat_at = None
        if rng.random() < 0.75:
            chat = bot_interaction(track_data, viewers=viewers, rng=rng)
            chat_at = at + timedelta(seconds=rng.randint(15, max(16, int(length.total_seconds()) - 30)))
        planned.append(PlannedTrack(at=at, track_data=track_data, viewers=viewers, chat=chat, chat_at=chat_at))
        at += length
    return start, planned


def bot_interaction(track_data: dict, *, viewers: int, rng: random.Random) -> dict:
    """The bot's chat message about a track, and how a crowd of `viewers` reacts to it."""
    cls = track_data["classification"]
    kind = rng.choices(list(BOT_LINES), weights=[4, 5, 2, 2])[0]
    subs = list(GENRES[cls["main_genre"]]["subgenres"])
    text = rng.choice(BOT_LINES[kind]).format(
        emoji=EMOJI[cls["main_genre"]], sub=cls["subgenre"].title(), main=cls["main_genre"],
        c1=cls["characteristics"][0], c2=cls["characteristics"][-1], bpm=track_data["bpm"],
        artist=track_data["artist"], title=track_data["title"], alt=rng.choice(subs),
    )
    engagement = max(0.0, rng.gauss(0.06 if kind == "hype" else 0.04, 0.02))
    responses = round(viewers * engagement)
    reaction = "positive" if responses >= 5 else ("neutral" if responses >= 2 else "quiet")
    emoji: dict[str, int] = {}
    for _ in range(responses):
        pick = rng.choice([EMOJI[cls["main_genre"]], *REACTION_EMOJI[:3]])
        emoji[pick] = emoji.get(pick, 0) + 1
    return {"message_sent": text, "engagement_type": kind, "audience_reaction": reaction,
            "response_count": responses, "emoji_reactions": emoji}


def _fatal(result: WebhookResult) -> bool:
    """No point sending the rest: the server can't be reached, or won't take this key or path."""
    return result.status_code is None or result.status_code in (401, 403, 404)


class _Aborted(Exception):
    pass


def play_set(
    client: StreamAssistantWebhookClient, *, tracks: int = 12, speed: float = 60.0, rng: random.Random | None = None,
    dj: str = "djunohoo", title: str = "Deep House Vibes", platform: str = "twitch",
    progress: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> Summary:
    """Send a whole set through `client`; `speed` 60 means a 4-minute track takes 4 seconds.

    Stops early (and still ends the stream) when `should_stop()` says so; gives up at once,
    with `summary.aborted` set, when the server is unreachable or refuses the key.
    """
    rng = rng or random.Random()
    start, planned = plan_set(tracks=tracks, rng=rng, end=datetime.now(UTC))
    summary = Summary(session_id=client.session_id, planned=len(planned))
    info = {"twitch_username": dj, "stream_title": title, "viewer_count": 0, "platform": platform}
    sent_at = time.monotonic()

    def send(result: WebhookResult) -> bool:
        nonlocal sent_at
        sent_at = time.monotonic()
        summary.sent += 1
        if not result.ok:
            summary.failed += 1
            summary.errors.append(result.error or "failed")
            if _fatal(result) or summary.sent == 1:
                summary.aborted = result.error or "failed"
                raise _Aborted
        return result.ok

    previous = start
    try:
        send(client.send_stream_stats({**info, "viewer_count": planned[0].viewers if planned else 0},
                                      "stream_start", timestamp=iso_timestamp(start)))
        for i, track in enumerate(planned, 1):
            sleep(max(0.0, (track.at - previous).total_seconds() / speed))
            if should_stop():
                break
            previous = track.at
            info["viewer_count"] = track.viewers
            summary.peak_viewers = max(summary.peak_viewers, track.viewers)
            ok = send(client.send_track_classification(track.track_data, info, timestamp=iso_timestamp(track.at)))
            summary.tracks += ok
            cls = track.track_data["classification"]
            line = (f"[{i:>3}/{len(planned)}] {track.at:%H:%M} {track.track_data['artist']} - "
                    f"{track.track_data['title']} ({cls['main_genre']} / {cls['subgenre']}) "
                    f"viewers {track.viewers:>4}")
            if track.chat is not None:
                summary.interactions += send(client.send_chat_interaction(track.chat, info,
                                                                          timestamp=iso_timestamp(track.chat_at)))
                line += f"  chat: {track.chat['engagement_type']} +{track.chat['response_count']}"
            if i % 3 == 0:
                update_at = iso_timestamp(track.at + timedelta(seconds=60))
                send(client.send_stream_stats(info, "stream_update", timestamp=update_at))
            progress(line + ("" if ok else "  [FAILED]"))
        if should_stop():
            summary.stopped = True
            progress("stopping early: ending the stream")
            # The simulated clock when the stop came: the last track plus the (sped-up) time since.
            elapsed = (time.monotonic() - sent_at) * speed if math.isfinite(speed) else 0.0
            end = previous + timedelta(seconds=min(elapsed, 3600.0))
        else:
            end = previous + timedelta(minutes=4)
        send(client.send_stream_stats({**info, "viewer_count": 0}, "stream_end", timestamp=iso_timestamp(end)))
    except _Aborted:
        pass
    return summary
