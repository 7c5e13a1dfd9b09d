from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "locations"
    verbose_name = "Places"
