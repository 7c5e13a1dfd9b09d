from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "locations"
    verbose_name = "Places"

    def ready(self):
        # Connects the signals that drop the process's copy of the categories on a save.
        import locations.categories  # noqa: F401
        from locations.image_targets import location_owned_check
        from media_store.targets import register_attach_target

        register_attach_target(location_owned_check)
