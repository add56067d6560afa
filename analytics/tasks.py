from celery import shared_task

from analytics.rollups import rollup_refresh_all


@shared_task(name="analytics.refresh_rollups", ignore_result=True)
def refresh_rollups(full: bool = False) -> None:
    """Beat: fold committed plays into the per-day rollups (queries stay exact between runs)."""
    rollup_refresh_all(full=full)
