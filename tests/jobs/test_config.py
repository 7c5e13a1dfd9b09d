from django.core.checks import run_checks

from config.celery import app


def test_every_beat_entry_names_a_registered_task():
    # What a worker imports at start-up (every app's tasks module).
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule

    assert {"jobs.relay-outbox", "notifications.moderation-digest"} <= schedule.keys()
    assert "media_store.purge-orphan-images" in schedule
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_celery_is_configured_for_late_acks_json_and_one_prefetched_message():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


def test_a_visibility_timeout_below_the_hard_time_limit_is_reported(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": 60,
    }

    ids = [message.id for message in run_checks()]

    assert "jobs.W001" in ids


def test_the_default_configuration_passes_the_jobs_checks():
    ids = [message.id for message in run_checks()]

    assert not [i for i in ids if i.startswith("jobs.")]
