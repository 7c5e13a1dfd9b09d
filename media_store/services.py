import logging

from media_store import storage

logger = logging.getLogger(__name__)


def image_objects_delete(*, keys: list[str]) -> None:
    """Remove an image's objects from storage. Runs after commit, so a failure here
    cannot undo the delete; it is logged (the orphan purge sweeps leftovers)."""
    try:
        storage.delete_objects(keys)
    except Exception:
        logger.exception("Could not delete image objects", extra={"keys": keys})
