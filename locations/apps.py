from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "locations"
    verbose_name = "Places"

    def ready(self):
        from locations.image_targets import location_owned_check
        from media_store.targets import register_attach_target

        register_attach_target(location_owned_check)
