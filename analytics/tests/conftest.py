import pytest

from analytics.tests import factories as f


@pytest.fixture
def streams(tenant, other_tenant):
    """Two sessions of `acme` (and noise in `globex`) with figures worked out by hand in the tests."""
    s1 = f.session(tenant, "s1", started_at=f.at(5, 20), ended_at=f.at(5, 20, 20), peak_viewers=200)
    p1 = f.play(s1, f.at(5, 20), "drum and bass", "liquid dnb", confidence=0.96,
                characteristics=["atmospheric", "jazzy", "melodic"], artist="LTJ Bukem", title="Music")
    p2 = f.play(s1, f.at(5, 20, 5), "drum and bass", "liquid dnb", confidence=0.90,
                characteristics=["atmospheric", "melodic"])
    p3 = f.play(s1, f.at(5, 20, 10), "house", "deep house", confidence=0.80, characteristics=["groovy"])
    f.interaction(s1, f.at(5, 20, 1), p1, kind="educational", responses=8)
    f.interaction(s1, f.at(5, 20, 6), p2, kind="hype", responses=5)
    f.interaction(s1, f.at(5, 20, 7), p2, kind="hype", responses=3)
    f.interaction(s1, f.at(5, 20, 11), p3, kind="educational", responses=4)
    for moment, count in ((f.at(5, 20), 100), (f.at(5, 20, 5), 150), (f.at(5, 20, 10), 120), (f.at(5, 20, 15), 200)):
        f.viewers(s1, moment, count)
    for moment, user in ((f.at(5, 20, 1, 10), "u1"), (f.at(5, 20, 1, 40), "u2"), (f.at(5, 20, 1, 50), "u1"),
                         (f.at(5, 20, 7), "u3"), (f.at(5, 20, 12, 30), "u1")):
        f.chat(s1, moment, user)

    s2 = f.session(tenant, "s2", started_at=f.at(7, 10), platform="youtube", dj="other")
    f.play(s2, f.at(7, 10), "house", "deep house", confidence=0.70, characteristics=["groovy", "soulful"])
    p5 = f.play(s2, f.at(7, 10, 4), "techno", "minimal")
    f.interaction(s2, f.at(7, 10, 5), p5, kind="hype", responses=10)

    noise = f.session(other_tenant, "s1", started_at=f.at(5, 20))
    for minute in range(5):
        track = f.play(noise, f.at(5, 21, minute), "drum and bass", "liquid dnb", confidence=0.5,
                       characteristics=["atmospheric"])
        f.interaction(noise, f.at(5, 21, minute, 30), track, responses=100)
    return {"s1": s1, "s2": s2, "p1": p1, "p2": p2, "p3": p3, "p5": p5}
